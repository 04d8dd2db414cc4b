// riffled: the Riffle daemon. Parses flags and the optional config file, opens the store,
// starts the metrics exporter, the broker, the gRPC and Kinesis HTTP front ends, the web console
// and the retention job, then waits for SIGTERM/SIGINT and drains.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "server/api/grpc/call_auth.h"
#include "server/api/grpc/grpc_server.h"
#include "server/api/kinesis_http/server.h"
#include "server/auth/credentials.h"
#include "server/auth/tls_files.h"
#include "server/broker/broker.h"
#include "server/broker/observer_pair.h"
#include "server/cluster/cluster_broker.h"
#include "server/cluster/cluster_node.h"
#include "server/cluster/replica_service.h"
#include "server/console/console_auth.h"
#include "server/console/console_server.h"
#include "server/console/metrics_history.h"
#include "server/jobs/periodic_job.h"
#include "server/metrics/metrics.h"
#include "server/riffled/flags.h"
#include "server/riffled/log_format.h"
#include "storage/store.h"

namespace riffle {
namespace {

// Whether `host` is a loopback address: only this machine can reach a port bound there.
bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma - start);
    if (!item.empty()) {
      out.push_back(item);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

// Written once every listener is up, then renamed into place, so a reader never sees half.
bool WritePortsFile(const std::string& path, int kinesis, int grpc, int metrics, int console) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "{\"kinesis\": " << kinesis << ", \"grpc\": " << grpc << ", \"metrics\": " << metrics
        << ", \"console\": " << console << "}\n";
    if (!out) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

// Whether a file in the data directory can be written and synced now (a full or read-only
// disk fails here first): part of /readyz.
Status DataDirWritable(const std::string& data_dir) {
  const std::string probe = (std::filesystem::path(data_dir) / ".readyz-probe").string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && ::write(fd, "ok", 2) == 2 && ::fsync(fd) == 0;
  const int error = errno;
  if (fd >= 0) {
    ::close(fd);
  }
  if (!written) {
    return Status(ErrorCode::kServiceUnavailable,
                  "the data directory " + data_dir + " is not writable: " + std::strerror(error));
  }
  return Status();
}

// SIGHUP: the credentials file is read again; a file with an error keeps the keys in force.
void ReloadCredentials(const Flags& flags, auth::Credentials* credentials) {
  if (credentials == nullptr) {
    spdlog::info("received SIGHUP; no credentials file to reload");
    return;
  }
  StatusOr<std::shared_ptr<const auth::KeySet>> keys = auth::KeySet::Load(flags.credentials_file);
  if (!keys.ok()) {
    spdlog::error("SIGHUP: keeping the keys in force: {}", keys.status().message());
    return;
  }
  spdlog::info("SIGHUP: reloaded {} keys from {}", (*keys)->size(), flags.credentials_file);
  credentials->Replace(std::move(keys).value());
}

// Each connection and each open table file takes a file descriptor: raise the soft limit to
// the hard one, so that --max-connections, not the default of 1024, bounds them. Returns the
// limit in force.
rlim_t RaiseFileLimit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 1024;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    struct rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      return raised.rlim_cur;
    }
    // Refused (an unlimited hard limit is above the kernel's nr_open): the old one holds.
  }
  return limit.rlim_cur;
}

int Run(const Flags& flags) {
  const rlim_t file_limit = RaiseFileLimit();
  storage::StoreOptions store_options;
  store_options.data_dir = flags.data_dir;
  // Table files get at most half the descriptors; connections and logs the rest.
  store_options.max_open_table_files = static_cast<int>(std::clamp<rlim_t>(
      file_limit / 2, 64, static_cast<rlim_t>(store_options.max_open_table_files)));
  store_options.fsync = flags.fsync == "always"     ? storage::FsyncMode::kAlways
                        : flags.fsync == "interval" ? storage::FsyncMode::kInterval
                                                    : storage::FsyncMode::kNever;
  store_options.fsync_interval = std::chrono::milliseconds(flags.fsync_interval_ms);
  store_options.min_free_disk_bytes = static_cast<uint64_t>(flags.min_free_disk_mb) << 20;
  store_options.accept_wal_damage = flags.accept_wal_damage;
  store_options.check_tables_at_start = flags.table_check == "on";

  // Signals are taken by sigwait below, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StatusOr<std::unique_ptr<storage::Store>> store = storage::Store::Open(store_options);
  if (!store.ok()) {
    spdlog::error("cannot open the data directory: {}", store.status().message());
    return 1;
  }
  StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics =
      metrics::MetricsServer::Start(flags.bind, flags.metrics_port, flags.tls);
  if (!metrics.ok()) {
    spdlog::error("{}", metrics.status().message());
    return 1;
  }
  std::unique_ptr<auth::Credentials> credentials;
  if (!flags.credentials_file.empty()) {
    StatusOr<std::shared_ptr<const auth::KeySet>> keys = auth::KeySet::Load(flags.credentials_file);
    if (!keys.ok()) {
      spdlog::error("{}", keys.status().message());
      return 1;
    }
    spdlog::info("requests must be signed with one of the {} keys of {}", (*keys)->size(),
                 flags.credentials_file);
    credentials = std::make_unique<auth::Credentials>(std::move(keys).value());
  }
  SystemClock clock;
  broker::BrokerOptions broker_options;
  broker_options.shard_quotas = flags.shard_quotas == "on";
  broker_options.iterator_ttl_ms = flags.iterator_ttl_ms;
  std::unique_ptr<cluster::ClusterNode> cluster_node;
  std::unique_ptr<cluster::ShardCloser> shard_closer;  // seals resharded shards at their leaders
  if (!flags.etcd_endpoints.empty()) {
    cluster::ClusterOptions cluster_options;
    cluster_options.etcd_endpoints = SplitList(flags.etcd_endpoints);
    cluster_options.membership.cluster_name = flags.cluster_name;
    cluster_options.membership.node_id = flags.node_id;
    cluster_options.membership.advertise_addr = flags.advertise_addr;
    cluster_options.membership.kinesis_addr = flags.bind + ":" + std::to_string(flags.kinesis_port);
    cluster_options.replication_factor = static_cast<size_t>(flags.replication_factor);
    if (credentials != nullptr) {
      cluster_options.peer_security.authorization = [credentials = credentials.get()] {
        const std::shared_ptr<const auth::AccessKey> key = credentials->keys()->cluster_key();
        return "Bearer " + key->id + ":" + key->secret;
      };
    }
    if (flags.tls.enabled()) {
      cluster_options.peer_security.channel_credentials = cluster::NewPeerTlsCredentials(
          flags.tls.cert_file, flags.tls.key_file, flags.tls.peer_ca());
    }
    StatusOr<std::unique_ptr<cluster::ClusterNode>> joined =
        cluster::ClusterNode::Start(cluster_options, **store);
    if (!joined.ok()) {
      spdlog::error("cannot join the cluster: {}", joined.status().message());
      return 1;
    }
    cluster_node = std::move(joined).value();
    shard_closer = std::make_unique<cluster::ShardCloser>(*cluster_node);
    broker_options.shard_sealer = shard_closer.get();
    broker_options.shard_ends_known = false;  // only a shard's leader knows its end
    // Twice a subscription's 5 minutes: a consumer that went on elsewhere is forgotten here.
    broker_options.consumer_position_ttl_ms = 10 * 60 * 1000;
  }
  // The console's charts observe the broker's traffic beside the metrics exporter.
  std::unique_ptr<console::MetricsHistory> metrics_history;
  std::unique_ptr<broker::ObserverPair> observers;
  broker::Observer* observer = metrics->get();
  if (flags.console_port != 0) {
    metrics_history = std::make_unique<console::MetricsHistory>();
    observers = std::make_unique<broker::ObserverPair>(*metrics->get(), *metrics_history);
    observer = observers.get();
  }
  StatusOr<std::unique_ptr<broker::Broker>> local_broker =
      broker::Broker::Open(**store, clock, broker_options, observer);
  if (!local_broker.ok()) {
    spdlog::error("cannot load the catalog: {}", local_broker.status().ToString());
    return 1;
  }
  // In a cluster the front ends see the cluster broker, which forwards what this node may not
  // serve itself.
  std::unique_ptr<cluster::ClusterBroker> cluster_broker;
  // The replicas this node keeps for other nodes' leaders, and the service they append through.
  std::unique_ptr<cluster::Follower> follower;
  std::unique_ptr<grpc::Service> replica_service;
  std::vector<grpc::Service*> internal_services;
  if (cluster_node) {
    cluster_node->Attach(**local_broker);
    follower = std::make_unique<cluster::Follower>(**store);
    replica_service =
        cluster::NewReplicaService(*follower, grpc_api::InternalCallGate(credentials.get()));
    internal_services.push_back(replica_service.get());
    cluster_broker =
        std::make_unique<cluster::ClusterBroker>(**local_broker, *cluster_node, **store,
                                                 *follower, *shard_closer);
    (*metrics)->SetClusterSource([node = cluster_node.get(), cluster = cluster_broker.get()] {
      metrics::ClusterGauges gauges;
      const std::vector<cluster::Member> members = node->view().Members();
      gauges.nodes = static_cast<int64_t>(members.size());
      gauges.is_controller = node->membership().IsController();
      gauges.lease_valid = node->membership().Serving();
      for (const cluster::Member& member : members) {
        gauges.shards_owned[member.node_id] = 0;  // a node without shards shows 0
      }
      for (const auto& [shard, assignment] : node->view().Assignments()) {
        ++gauges.shards_owned[assignment.node_id];
      }
      for (cluster::ClusterBroker::LedShard& led : cluster->LedShards()) {
        metrics::ClusterGauges::LedShard& shard = gauges.led_shards.emplace_back();
        shard.stream = std::move(led.stream_name);
        shard.shard_id = std::move(led.shard_id);
        shard.replicas = static_cast<int64_t>(led.replicas);
        shard.in_sync = 1;
        for (const cluster::ShardReplication::Replica& follower : led.replication.followers) {
          shard.in_sync += follower.in_sync ? 1 : 0;
          shard.follower_lag[follower.node_id] =
              static_cast<int64_t>(led.replication.durable_end -
                                   std::min(led.replication.durable_end, follower.acked_end));
        }
      }
      gauges.elections = cluster->elections();
      return gauges;
    });
  }
  broker::Broker* broker = cluster_broker ? cluster_broker.get() : local_broker->get();
  (*metrics)->SetLagSource([broker] {
    return metrics::LagReport{.groups = broker->ConsumerGroupLags(),
                              .readers = broker->ReaderLags()};
  });
  (*metrics)->SetStorageSource([broker, &store = **store] {
    const storage::Store::Stats stats = store.stats();
    const storage::CommitTimes& commits = stats.commit_times;
    return metrics::StorageGauges{
        .streams = broker->StreamDiskUsage(),
        .wal_bytes = stats.wal_bytes,
        .filesystem_available_bytes = stats.filesystem_available_bytes,
        .filesystem_size_bytes = stats.filesystem_size_bytes,
        .pending_compaction_bytes = stats.pending_compaction_bytes,
        .writes_stopped = stats.writes_stopped,
        .delayed_write_rate = stats.delayed_write_rate,
        .damaged_table_files = stats.damaged_table_files,
        .shards_to_drop = stats.shards_to_drop,
        .commit_bounds_seconds = {commits.kBoundsSeconds.begin(), commits.kBoundsSeconds.end()},
        .commit_at_most = {commits.at_most.begin(), commits.at_most.end()},
        .commit_count = commits.count,
        .commit_sum_seconds = commits.sum_seconds};
  });
  kinesis_http::HttpServerOptions http_options;
  http_options.host = flags.bind;
  http_options.port = flags.kinesis_port;
  http_options.threads = flags.http_threads;
  http_options.max_connections = static_cast<size_t>(flags.max_connections);
  http_options.credentials = credentials.get();
  http_options.cors_origins = SplitList(flags.cors_origins);
  http_options.tls_cert_file = flags.tls.cert_file;
  http_options.tls_key_file = flags.tls.key_file;
  const call_log::CallLogOptions call_log_options{
      .access_log = flags.access_log, .slow_call = std::chrono::milliseconds(flags.slow_call_ms)};
  http_options.call_log = call_log_options;
  StatusOr<std::unique_ptr<kinesis_http::HttpServer>> http =
      kinesis_http::HttpServer::Start(*broker, http_options);
  if (!http.ok()) {
    spdlog::error("{}", http.status().message());
    return 1;
  }
  StatusOr<std::unique_ptr<grpc_api::GrpcServer>> grpc = grpc_api::GrpcServer::Start(
      *broker, flags.bind, flags.grpc_port, {}, &clock, internal_services, credentials.get(),
      flags.tls, call_log_options);
  if (!grpc.ok()) {
    spdlog::error("{}", grpc.status().message());
    return 1;
  }
  std::unique_ptr<console::ConsoleServer> web_console;
  if (flags.console_port != 0) {
    console::ConsoleServerOptions console_options;
    console_options.host = flags.bind;
    console_options.port = flags.console_port;
    console_options.api.history = metrics_history.get();
    if (credentials != nullptr) {
      console_options.api.authorize = [keys = credentials.get()](const console::ApiRequest& r) {
        return console::AuthorizeConsoleRequest(*keys->keys(), r);
      };
    }
    StatusOr<std::unique_ptr<console::ConsoleServer>> started =
        console::ConsoleServer::Start(*broker, console_options);
    if (started.ok()) {
      web_console = std::move(started).value();
    } else if (flags.console_port_chosen) {
      spdlog::error("{}", started.status().message());
      return 1;
    } else {
      spdlog::warn("{}; running without the web console (--console-port picks another port)",
                   started.status().message());
    }
  }
  const int console_port = web_console ? web_console->port() : 0;
  jobs::PeriodicJob trimmer("retention", std::chrono::seconds(flags.retention_check_s),
                            [broker] { broker->TrimExpiredRecords(); });
  jobs::PeriodicJob throttle_log("throttling summary",
                                 std::chrono::seconds(flags.throttle_summary_s),
                                 [broker] { broker->LogThrottling(); });
  if (!flags.ports_file.empty() &&
      !WritePortsFile(flags.ports_file, (*http)->port(), (*grpc)->port(), (*metrics)->port(),
                      console_port)) {
    spdlog::error("cannot write the ports file {}", flags.ports_file);
    return 1;
  }
  // After the last early return: the servers it reads are cleared from it before they go.
  (*metrics)->SetFrontEndSource([&http = **http, &grpc = **grpc] {
    return metrics::FrontEndGauges{
        .kinesis_connections = http.open_connections(),
        .grpc_calls_in_flight = static_cast<uint64_t>(grpc.calls_in_flight())};
  });
  spdlog::info(
      "riffled ready data_dir={} kinesis={}:{} grpc={}:{} metrics={}:{} console={}:{} fsync={} "
      "shard_quotas={}",
      flags.data_dir, flags.bind, (*http)->port(), flags.bind, (*grpc)->port(), flags.bind,
      (*metrics)->port(), flags.bind, console_port, flags.fsync, flags.shard_quotas);

  std::atomic<bool> stopping{false};
  (*metrics)->SetReadiness([&stopping, &flags, node = cluster_node.get()]() -> Status {
    if (stopping.load()) {
      return Status(ErrorCode::kServiceUnavailable, "shutting down");
    }
    if (node != nullptr && !node->membership().Serving()) {
      return Status(ErrorCode::kServiceUnavailable,
                    "this node's cluster lease has lapsed; it serves again once registered");
    }
    return DataDirWritable(flags.data_dir);
  });

  if (metrics_history) {  // stopped below, before the broker it reads goes
    // Every shard's lag from this node's copies (the cluster broker reports only the shards
    // this node leads, so that Prometheus gets one series per shard).
    metrics_history->StartSampling(
        [local = local_broker->get()] { return local->ConsumerGroupLags(); });
  }
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    ReloadCredentials(flags, credentials.get());
    Status reloaded = (*http)->ReloadTls();
    if (reloaded.ok()) {
      reloaded = (*metrics)->ReloadTls();
    }
    if (!reloaded.ok()) {
      spdlog::error("SIGHUP: keeping the TLS certificate in force: {}", reloaded.message());
    } else if (flags.tls.enabled()) {
      spdlog::info("SIGHUP: reloaded the TLS certificate of the Kinesis and metrics ports");
    }
  }
  stopping.store(true);
  spdlog::info("received {}, draining", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  if (cluster_node) {
    cluster_node->Drain(std::chrono::seconds(flags.drain_s));
  }
  web_console.reset();                     // its requests call the broker, which goes below
  (*metrics)->SetFrontEndSource(nullptr);  // before the servers it reads go
  (*http)->Shutdown();
  (*grpc)->Shutdown();
  trimmer.Stop();
  throttle_log.Stop();
  (*metrics)->SetClusterSource(nullptr);  // before the node and the broker it reads go
  (*metrics)->SetLagSource(nullptr);
  (*metrics)->SetStorageSource(nullptr);
  if (metrics_history) {
    metrics_history->StopSampling();
  }
  (*metrics)->SetReadiness(nullptr);
  // Stops moving and replicating shards. Writes still waiting for a majority fail now, while
  // the servers' executors that take their answers are still there.
  cluster_broker.reset();
  // Every queued write completes (posting its answer) before the servers' executors go away.
  (*store)->pipeline().Drain();
  http->reset();
  grpc->reset();
  if (cluster_node) {
    cluster_node->Leave();  // the member key goes now, not when the lease runs out
  }
  cluster_node.reset();
  replica_service.reset();
  follower.reset();  // lets go of the replicas' shard logs
  local_broker->reset();
  store->reset();  // syncs the WAL and closes the database
  metrics->reset();
  spdlog::info("riffled stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace riffle

int main(int argc, char** argv) {
  // Large buffers (request bodies, GetRecords responses of up to ~14 MiB) come from mmap and go
  // back to the OS when freed. With glibc's default the threshold climbs after the first such
  // free, and every worker thread's arena then kept its largest response resident.
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  riffle::Flags flags;
  CLI::App app{"riffled: a durable log broker with the Kinesis Data Streams API"};
  riffle::DefineFlags(app, flags);
  CLI11_PARSE(app, argc, argv);
  // Set by the command line or the config file: then a busy port is an error, not a fallback.
  flags.console_port_chosen = app.get_option("--console-port")->count() > 0;
  if (flags.print_config) {
    std::fputs(app.config_to_str(/*default_also=*/true, /*write_description=*/false).c_str(),
               stdout);
    return 0;
  }
  if (!flags.etcd_endpoints.empty() && (flags.node_id.empty() || flags.advertise_addr.empty())) {
    std::fprintf(stderr, "--etcd-endpoints needs --node-id and --advertise-addr\n");
    return 2;
  }

  if (!riffle::IsLoopback(flags.bind) && flags.credentials_file.empty() && !flags.insecure) {
    std::fprintf(stderr,
                 "refusing to listen on %s without --credentials-file: anyone who can reach "
                 "this address could read, write and delete every stream. Give "
                 "--credentials-file (docs/security.md), bind to 127.0.0.1, or pass --insecure "
                 "if a firewall or private network keeps others out.\n",
                 flags.bind.c_str());
    return 2;
  }
  if (riffle::Status tls = riffle::auth::CheckTlsFiles(flags.tls); !tls.ok()) {
    std::fprintf(stderr, "%s\n", tls.message().c_str());
    return 2;
  }
  riffle::SetLogFormat(flags.log_format);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  const int code = riffle::Run(flags);
  // Everything riffled owns is closed and synced by now. Leave without the library teardown at
  // exit: gRPC's callback executor threads made it take seconds, long after the data was safe.
  spdlog::shutdown();
  std::fflush(nullptr);
  std::_Exit(code);
}
