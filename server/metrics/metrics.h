// Prometheus metrics of riffled: the Kinesis CloudWatch stream metrics (IncomingBytes,
// IncomingRecords, GetRecords.Bytes, GetRecords.IteratorAgeMilliseconds, PutRecord.Latency,
// WriteProvisionedThroughputExceeded, ...) under Prometheus names, labelled by stream; and,
// for streams with enhanced monitoring enabled, the same per shard.
//
// Thread-safe. Serves /metrics on its own port through the prometheus-cpp pull exposer.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/broker/observer.h"

namespace riffle::metrics {

class MetricsServer : public broker::Observer {
 public:
  // Without an address (port 0 in riffled) nothing listens, but the observer still counts.
  static StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port);
  // The port actually bound; 0 when not listening.
  virtual int port() const = 0;
  // The exposition text, as a scrape would see it.
  virtual std::string Render() const = 0;
};

}  // namespace riffle::metrics
