#include "server/metrics/process_collectable.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "server/metrics/single_sample.h"

namespace riffle::metrics {
namespace {

// The fields of /proc/self/stat after the command name, so that fields()[0] is field 3 (state).
std::vector<std::string> StatFields() {
  std::ifstream file("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t name_end = text.rfind(')');
  std::vector<std::string> fields;
  if (name_end == std::string::npos) {
    return fields;
  }
  std::istringstream rest(text.substr(name_end + 1));
  for (std::string field; rest >> field;) {
    fields.push_back(field);
  }
  return fields;
}

// Seconds since the epoch at which the machine booted (/proc/stat btime); 0 if unknown.
double BootTime() {
  std::ifstream file("/proc/stat");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("btime ")) {
      return std::stod(line.substr(6));
    }
  }
  return 0;
}

double Field(const std::vector<std::string>& fields, int number) {
  const size_t index = static_cast<size_t>(number - 3);
  return index < fields.size() ? std::stod(fields[index]) : 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollectable::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const std::vector<std::string> stat = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (stat.size() >= 22 && ticks > 0) {
    out.push_back(
        SingleSample("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
                     (Field(stat, 14) + Field(stat, 15)) / ticks, prometheus::MetricType::Counter));
    out.push_back(SingleSample("process_threads", "Threads of the process", Field(stat, 20)));
    out.push_back(SingleSample("process_start_time_seconds",
                               "Start time of the process since the Unix epoch, in seconds",
                               BootTime() + Field(stat, 22) / ticks));
    out.push_back(SingleSample("process_virtual_memory_bytes", "Virtual memory size, in bytes",
                               Field(stat, 23)));
    out.push_back(SingleSample("process_resident_memory_bytes", "Resident memory size, in bytes",
                               Field(stat, 24) * page));
  }
  std::error_code ec;
  double open_fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++open_fds;
  }
  out.push_back(SingleSample("process_open_fds", "Open file descriptors", open_fds));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(SingleSample("process_max_fds", "Limit of open file descriptors",
                               static_cast<double>(limit.rlim_cur)));
  }
  prometheus::MetricFamily build =
      SingleSample("riffle_build_info", "1, labelled with the version riffled was built from", 1);
  build.metric.front().label = {{.name = "version", .value = RIFFLE_VERSION}};
  out.push_back(std::move(build));
  return out;
}

}  // namespace riffle::metrics
