// riffled's flags: their values, and their definitions on a CLI11 app, which reads them from the
// command line and from the --config file (TOML). Apart from main.cc so that the config parser
// can be fuzzed with the real definitions (tests/fuzz/config_fuzz.cc).
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "server/auth/tls_files.h"

namespace riffle {

constexpr int kDefaultConsolePort = 8080;

struct Flags {
  std::string data_dir = "riffle-data";
  std::string bind = "127.0.0.1";
  int kinesis_port = 4567;
  int grpc_port = 50051;
  int metrics_port = 9464;
  std::string fsync = "always";
  int fsync_interval_ms = 10;
  std::string shard_quotas = "on";
  std::string ports_file;
  std::string log_level = "info";
  std::string log_format = "text";
  bool access_log = false;
  int slow_call_ms = 1000;
  bool print_config = false;
  int64_t iterator_ttl_ms = 300'000;
  int http_threads = 4;
  int max_connections = 10000;
  int min_free_disk_mb = 256;
  bool accept_wal_damage = false;
  std::string table_check = "on";
  int retention_check_s = 60;
  int throttle_summary_s = 60;
  // Cluster mode (docs/cluster.md): on when etcd endpoints are given.
  std::string etcd_endpoints;
  std::string node_id;
  std::string advertise_addr;
  std::string cluster_name = "default";
  int replication_factor = 3;
  int drain_s = 10;
  // The web console's port (0: off). The default port is a convenience: when it is taken (a
  // second node on one machine), riffled runs without a console. A port the operator chose
  // must be served, or riffled does not start.
  int console_port = kDefaultConsolePort;
  bool console_port_chosen = false;
  // Security (docs/security.md).
  std::string credentials_file;
  std::string cors_origins;
  bool insecure = false;
  auth::TlsFiles tls;
};

// Defines every flag of riffled on `app`, storing into `flags`, with --config reading a TOML
// file whose keys are the flag names.
void DefineFlags(CLI::App& app, Flags& flags);

}  // namespace riffle
