// riffled's --config file: CLI11's TOML/INI config reader with riffled's own flag definitions
// (server/riffled/flags.h), their types, ranges and choices, and the refusal of unknown keys.
// riffled exits non-zero with CLI11's message on any CLI::Error; anything else thrown, or a
// crash, is a finding.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "server/riffled/flags.h"

namespace {

// Defined once: building the fifty options took most of each input's time. clear() forgets
// which options the last input gave; the values it stored stay, and no check of the next
// input reads them (each checks the text it is given).
struct Definitions {
  riffle::Flags flags;
  CLI::App app;
  Definitions() { riffle::DefineFlags(app, flags); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Definitions definitions;
  CLI::App& app = definitions.app;
  app.clear();
  std::istringstream config(std::string(reinterpret_cast<const char*>(data), size));
  try {
    app.parse_from_stream(config);
  } catch (const CLI::Error&) {
    // Refused with a message, as riffled's CLI11_PARSE does.
  }
  return 0;
}
