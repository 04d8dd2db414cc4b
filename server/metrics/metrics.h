// Prometheus metrics of riffled: the Kinesis CloudWatch stream metrics (IncomingBytes,
// IncomingRecords, GetRecords.Bytes, GetRecords.IteratorAgeMilliseconds, PutRecord.Latency,
// WriteProvisionedThroughputExceeded, ...) under Prometheus names, labelled by stream; and,
// for streams with enhanced monitoring enabled, the same per shard. A node of a cluster adds
// riffle_cluster_nodes, riffle_cluster_is_controller, riffle_cluster_lease_valid and
// riffle_cluster_shards_owned{node}, read at each scrape from a source riffled sets; so are the
// lag of each consumer group in each shard and the storage health series. The process_*
// series and riffle_build_info come from /proc.
//
// Thread-safe. Serves /metrics on its own port through the prometheus-cpp pull exposer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/auth/tls_files.h"
#include "server/broker/observer.h"
#include "server/broker/types.h"
#include "server/metrics/front_end_collectable.h"
#include "server/metrics/lag_collectable.h"
#include "server/metrics/storage_collectable.h"

namespace riffle::metrics {

// A cluster node's state as the riffle_cluster_* gauges show it.
struct ClusterGauges {
  int64_t nodes = 0;                            // live members
  bool is_controller = false;                   // this node holds the controller key
  bool lease_valid = false;                     // this node's lease deadline holds: it may serve
  std::map<std::string, int64_t> shards_owned;  // by node id
  // The replicated shards this node leads.
  struct LedShard {
    std::string stream;
    std::string shard_id;
    int64_t replicas = 0;
    int64_t in_sync = 0;                          // replicas in sync, the leader included
    std::map<std::string, int64_t> follower_lag;  // records behind the leader, by node id
  };
  std::vector<LedShard> led_shards;
  int64_t elections = 0;  // shard leaders this node elected as controller since it started
};

class MetricsServer : public broker::Observer {
 public:
  // Without an address (port 0 in riffled) nothing listens, but the observer still counts.
  // HTTPS when `tls` names a certificate.
  static StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port,
                                                        auth::TlsFiles tls = {});
  // The port actually bound; 0 when not listening.
  virtual int port() const = 0;
  // Reads the TLS files again (SIGHUP); on an error the certificate in force stays.
  virtual Status ReloadTls() = 0;
  // The exposition text, as a scrape would see it.
  virtual std::string Render() const = 0;
  // What GET /readyz answers (200 when it returns OK, else 503 with its message); until one is
  // set, 503 "starting". /healthz answers 200 whenever the port answers at all.
  virtual void SetReadiness(std::function<Status()> readiness) = 0;
  // The source of the riffle_cluster_* gauges, called at each scrape (nullptr, the default: no
  // cluster series). Waits for a scrape in progress, so the previous source is not called again
  // once this returns.
  virtual void SetClusterSource(std::function<ClusterGauges()> source) = 0;
  // The source of the lag series (lag_collectable.h): consumer groups, the furthest-behind
  // GetRecords readers and registered consumers, called at each scrape (nullptr, the default:
  // none); waits like SetClusterSource.
  virtual void SetLagSource(std::function<LagReport()> source) = 0;
  // The source of the storage health series (riffle_stream_disk_bytes, riffle_wal_bytes,
  // riffle_rocksdb_*, riffle_commit_duration_seconds), called at each scrape (nullptr, the
  // default: none); waits like SetClusterSource. The process_* series are always there.
  virtual void SetStorageSource(std::function<StorageGauges()> source) = 0;
  // The source of riffle_open_connections and riffle_grpc_calls_in_flight (front_end_
  // collectable.h), called at each scrape (nullptr, the default: none); waits likewise.
  virtual void SetFrontEndSource(std::function<FrontEndGauges()> source) = 0;
};

}  // namespace riffle::metrics
