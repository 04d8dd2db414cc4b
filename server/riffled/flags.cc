#include "server/riffled/flags.h"

namespace riffle {

void DefineFlags(CLI::App& app, Flags& flags) {
  app.set_config("--config", "", "read flags from a TOML/INI file (keys = flag names)");
  // A misspelt key must not be ignored: the operator believes it took effect.
  app.allow_config_extras(false);
  app.add_flag("--print-config", flags.print_config,
               "print the effective configuration (flags, config file and defaults) as TOML "
               "and exit")
      ->configurable(false);
  app.add_option("--data-dir", flags.data_dir, "where the data lives")->capture_default_str();
  app.add_option("--bind", flags.bind, "address to listen on")->capture_default_str();
  app.add_option("--kinesis-port", flags.kinesis_port, "Kinesis HTTP API port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--grpc-port", flags.grpc_port, "gRPC API port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--metrics-port", flags.metrics_port, "Prometheus metrics port (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--fsync", flags.fsync,
                 "always: ack after the WAL fsync (group commit); interval: fsync every "
                 "--fsync-interval-ms; never: leave it to the OS")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "interval", "never"}));
  app.add_option("--fsync-interval-ms", flags.fsync_interval_ms, "for --fsync=interval")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--shard-quotas", flags.shard_quotas,
                 "enforce the per-shard Kinesis quotas on PROVISIONED streams")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--ports-file", flags.ports_file,
                 "write {\"kinesis\": N, \"grpc\": N, \"metrics\": N, \"console\": N} here "
                 "once listening");
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", flags.log_format,
                 "text: time, level=, message; json: one JSON object per line")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--access-log", flags.access_log,
               "log every call of the Kinesis and gRPC ports at info level (else at debug)");
  app.add_option("--slow-call-ms", flags.slow_call_ms,
                 "warn about calls that take longer (0: never); subscriptions are not judged")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600000));
  app.add_option("--http-threads", flags.http_threads, "Kinesis API worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--min-free-disk-mb", flags.min_free_disk_mb,
                 "refuse writes while the data directory's disk has less free (at most a "
                 "twentieth of its size, at least what a memtable switch takes); 0: never")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_flag("--accept-wal-damage", flags.accept_wal_damage,
               "start even when a write-ahead log is damaged before its end, dropping the "
               "records after the damage (without it riffled refuses to start, naming the file)");
  app.add_option("--table-check", flags.table_check,
                 "after the start, read every table file once in the background and report "
                 "damaged ones (log and riffle_damaged_table_files)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--max-connections", flags.max_connections,
                 "Kinesis API connections open at once; more are answered 503 and closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--retention-check-s", flags.retention_check_s,
                 "how often expired records are trimmed")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--throttle-summary-s", flags.throttle_summary_s,
                 "how often the records and reads refused by shard quotas are summed up in the log")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  // For tests of iterator expiry; Kinesis fixes it at 300 s.
  app.add_option("--iterator-ttl-ms", flags.iterator_ttl_ms)
      ->group("")
      ->check(CLI::Range(1, 86400000));
  app.add_option("--etcd-endpoints", flags.etcd_endpoints,
                 "cluster mode: comma-separated etcd client URLs (http://host:port)");
  app.add_option("--node-id", flags.node_id, "cluster mode: this node's stable id ([a-z0-9-])");
  app.add_option("--advertise-addr", flags.advertise_addr,
                 "cluster mode: host:port of this node's gRPC API for the other nodes");
  app.add_option("--cluster-name", flags.cluster_name,
                 "cluster mode: prefix of every etcd key, so clusters can share one etcd")
      ->capture_default_str();
  app.add_option("--console-port", flags.console_port,
                 "web console port (0: off); when the default port is taken, riffled runs "
                 "without the console")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--drain-s", flags.drain_s,
                 "cluster mode: on SIGTERM, how long to wait for this node's shards to move away")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  app.add_option("--replication-factor", flags.replication_factor,
                 "cluster mode: copies of each new shard, at most the number of live nodes; "
                 "a write is acknowledged once a majority of them has it on disk")
      ->capture_default_str()
      ->check(CLI::Range(1, 5));
  app.add_option("--credentials-file", flags.credentials_file,
                 "TOML file of access keys: every request must then be signed (SigV4) or carry "
                 "a bearer token or mapped client certificate (gRPC) of one of them; see "
                 "docs/security.md");
  app.add_option("--cors-origins", flags.cors_origins,
                 "comma-separated web origins whose pages may call the Kinesis port, or *; "
                 "default none");
  app.add_option("--tls-cert", flags.tls.cert_file,
                 "PEM certificate chain: TLS on the Kinesis and gRPC ports");
  app.add_option("--tls-key", flags.tls.key_file, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", flags.tls.client_ca_file,
                 "PEM CA: gRPC clients must present a certificate it signed (mutual TLS)");
  app.add_option("--tls-peer-ca", flags.tls.peer_ca_file,
                 "cluster mode: PEM CA that signed the other nodes' certificates, which this "
                 "node verifies when it calls them; default --tls-client-ca, else the system's");
  app.add_flag("--insecure", flags.insecure,
               "allow --bind to a non-loopback address without --credentials-file");
}

}  // namespace riffle
