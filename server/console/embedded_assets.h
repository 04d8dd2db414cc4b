// The console's page (index.html, the bundled JS and CSS), compiled into riffled so that
// nothing needs installing next to the binary. The definitions are generated at build time
// from server/console/web by cmake/embed_files.cmake.
#pragma once

#include <span>
#include <string_view>

namespace riffle::console {

struct EmbeddedAsset {
  std::string_view path;  // as requested: "/", "/app.js"
  std::string_view content_type;
  std::string_view data;
};

std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace riffle::console
