// riffle: command-line client for riffled's gRPC API.
//
//   riffle [--endpoint HOST:PORT] [--json] [--credentials ID:SECRET] [--tls-ca FILE] stream create NAME --shards N [--on-demand] [--replication-factor R]
//   riffle stream list | stream describe NAME | stream delete NAME [--enforce-consumer-deletion]
//   riffle stream split NAME --shard ID --hash-key K | stream merge NAME --shard A --adjacent B
//   riffle stream scale NAME --shards N             UNIFORM_SCALING to N open shards
//   riffle produce NAME --key K [--file F]        one record per input line
//   riffle tail NAME [--from trim-horizon|latest|timestamp:<RFC3339>|seq:<n>] [-f] [--shard ID]
//   riffle consumer register|list|describe|deregister NAME [CONSUMER]   enhanced fan-out
//   riffle subscribe NAME --consumer C --shard ID [--from ...]   records pushed until Ctrl-C
//   riffle cluster status                          nodes, controller and the owner of every shard
//   riffle group describe --stream S --group G     each shard's checkpoint, lag and lease
//   riffle trigger --stream S --group G (--python F.py:FN | --exec CMD | --url URL) [options]
//                                                  a handler on every batch, until Ctrl-C
//
//   riffle certs create --out DIR                  a CA and certificates for TLS on one machine
//
// The global flags --endpoint, --json, --credentials and --tls-ca may also come after the
// subcommand.
//
// Exit status 0 on success, 1 on an error (printed as `riffle: <KinesisCode>: <message>`), and
// CLI11's codes for bad usage.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "client/cli/certs.h"
#include "client/cli/commands.h"
#include "client/cli/start_position.h"
#include "client/trigger/trigger.h"

namespace {

// Set by SIGINT/SIGTERM while `tail -f`, `subscribe` or `trigger` runs; lock-free, so safe to store from a
// handler.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void RequestStop(int /*signal*/) {
  stop_requested.store(true);
}

int Fail(const riffle::Status& status) {
  std::cerr << "riffle: " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"riffle: create streams, produce and tail records on a riffled server"};
  app.require_subcommand(1);
  // Subcommands (created below, they inherit this) hand the flags they do not know to their
  // parent: `riffle stream list --json` works as `riffle --json stream list`.
  app.fallthrough();
  std::string endpoint = "127.0.0.1:50051";
  bool json = false;
  app.add_option("--endpoint", endpoint, "riffled gRPC address host:port")
      ->envname("RIFFLE_ENDPOINT")
      ->capture_default_str();
  app.add_flag("--json", json, "one JSON object per line, for scripts");
  std::string credentials;
  app.add_option("--credentials", credentials,
                 "ID:SECRET of a key in the server's credentials file")
      ->envname("RIFFLE_CREDENTIALS");
  std::string tls_ca;
  app.add_option("--tls-ca", tls_ca, "PEM CA to trust: speak TLS to riffled")
      ->envname("RIFFLE_TLS_CA");
  std::string tls_cert, tls_key;
  app.add_option("--tls-cert", tls_cert, "PEM client certificate, for a server that requires one");
  app.add_option("--tls-key", tls_key, "PEM key of --tls-cert");

  CLI::App* stream =
      app.add_subcommand("stream", "create, list, describe, reshard or delete streams");
  stream->require_subcommand(1);
  riffle::cli::CreateStreamArgs create_args;
  int32_t shards = 0;
  CLI::App* create = stream->add_subcommand("create", "create a stream");
  create->add_option("name", create_args.stream, "stream name")->required();
  CLI::Option* shards_option =
      create->add_option("--shards", shards, "number of shards (PROVISIONED)");
  create->add_flag("--on-demand", create_args.on_demand, "ON_DEMAND mode: no per-shard quotas");
  int32_t replication_factor = 0;
  CLI::Option* replication_option = create->add_option(
      "--replication-factor", replication_factor,
      "copies of each shard in a cluster, 1-5 (default: the cluster's)");
  CLI::App* list = stream->add_subcommand("list", "list streams");
  std::string describe_name;
  CLI::App* describe = stream->add_subcommand("describe", "show a stream and its shards");
  describe->add_option("name", describe_name, "stream name or ARN")->required();
  std::string delete_name;
  bool enforce_consumer_deletion = false;
  CLI::App* remove = stream->add_subcommand("delete", "delete a stream and its records");
  remove->add_option("name", delete_name, "stream name or ARN")->required();
  remove->add_flag("--enforce-consumer-deletion", enforce_consumer_deletion,
                   "also delete a stream that has registered consumers");
  riffle::cli::SplitShardArgs split_args;
  CLI::App* split = stream->add_subcommand("split", "split an open shard in two");
  split->add_option("name", split_args.stream, "stream name or ARN")->required();
  split->add_option("--shard", split_args.shard_id, "the shard to split")->required();
  split->add_option("--hash-key", split_args.new_starting_hash_key,
                    "decimal hash key where the second child starts")
      ->required();
  riffle::cli::MergeShardsArgs merge_args;
  CLI::App* merge = stream->add_subcommand("merge", "merge two adjacent open shards");
  merge->add_option("name", merge_args.stream, "stream name or ARN")->required();
  merge->add_option("--shard", merge_args.shard_id, "the shard with the lower hash keys")
      ->required();
  merge->add_option("--adjacent", merge_args.adjacent_shard_id,
                    "the shard whose hash keys start right above it")
      ->required();
  riffle::cli::ScaleStreamArgs scale_args;
  CLI::App* scale =
      stream->add_subcommand("scale", "reshard to N open shards of equal hash key ranges");
  scale->add_option("name", scale_args.stream, "stream name or ARN")->required();
  scale->add_option("--shards", scale_args.shards, "target open shard count")->required();

  riffle::cli::ProduceArgs produce_args;
  std::string input_file;
  CLI::App* produce = app.add_subcommand("produce", "write one record per line of stdin or --file");
  produce->add_option("name", produce_args.stream, "stream name or ARN")->required();
  produce->add_option("--key", produce_args.partition_key, "partition key of every record")
      ->required();
  produce->add_option("--file", input_file, "read lines from this file instead of stdin");

  riffle::cli::TailArgs tail_args;
  CLI::App* tail = app.add_subcommand("tail", "print the records of a stream");
  tail->add_option("name", tail_args.stream, "stream name or ARN")->required();
  tail->add_option("--from", tail_args.from,
                   "trim-horizon | latest | timestamp:<RFC3339> | seq:<n>")
      ->capture_default_str();
  tail->add_flag("-f,--follow", tail_args.follow, "keep polling for new records until Ctrl-C");
  tail->add_option("--shard", tail_args.shard_id, "read only this shard");

  CLI::App* consumer =
      app.add_subcommand("consumer", "register, list, describe or deregister stream consumers");
  consumer->require_subcommand(1);
  std::string consumer_stream;
  std::string consumer_name;
  CLI::App* register_consumer =
      consumer->add_subcommand("register", "register an enhanced fan-out consumer");
  register_consumer->add_option("stream", consumer_stream, "stream name or ARN")->required();
  register_consumer->add_option("consumer", consumer_name, "consumer name")->required();
  CLI::App* list_consumers = consumer->add_subcommand("list", "list a stream's consumers");
  list_consumers->add_option("stream", consumer_stream, "stream name or ARN")->required();
  CLI::App* describe_consumer = consumer->add_subcommand("describe", "show one consumer");
  describe_consumer->add_option("stream", consumer_stream, "stream name or ARN")->required();
  describe_consumer->add_option("consumer", consumer_name, "consumer name or ARN")->required();
  CLI::App* deregister_consumer = consumer->add_subcommand("deregister", "remove a consumer");
  deregister_consumer->add_option("stream", consumer_stream, "stream name or ARN")->required();
  deregister_consumer->add_option("consumer", consumer_name, "consumer name or ARN")->required();

  riffle::cli::SubscribeArgs subscribe_args;
  CLI::App* subscribe = app.add_subcommand(
      "subscribe", "print the records riffled pushes to a consumer for one shard, until Ctrl-C");
  subscribe->add_option("name", subscribe_args.stream, "stream name or ARN")->required();
  subscribe->add_option("--consumer", subscribe_args.consumer, "consumer name or ARN")
      ->required();
  subscribe->add_option("--shard", subscribe_args.shard_id, "the shard to subscribe to")
      ->required();
  subscribe->add_option("--from", subscribe_args.from,
                        "trim-horizon | latest | timestamp:<RFC3339> | seq:<n>")
      ->capture_default_str();

  CLI::App* cluster = app.add_subcommand("cluster", "show the nodes serving the streams");
  cluster->require_subcommand(1);
  CLI::App* cluster_status = cluster->add_subcommand(
      "status", "nodes, controller, and per shard its owner, epoch and move");

  CLI::App* certs = app.add_subcommand("certs", "make certificates for TLS on one machine");
  certs->require_subcommand(1);
  std::string certs_dir;
  CLI::App* certs_create = certs->add_subcommand(
      "create", "a self-signed CA, a server certificate for 127.0.0.1/localhost, a client one");
  certs_create->add_option("--out", certs_dir, "directory to write them to")->required();

  CLI::App* group = app.add_subcommand("group", "consumer groups: checkpoints, leases and lag");
  group->require_subcommand(1);
  std::string group_stream;
  std::string group_name;
  CLI::App* describe_group =
      group->add_subcommand("describe", "each shard's checkpoint, lag and lease");
  describe_group->add_option("--stream", group_stream, "stream name or ARN")->required();
  describe_group->add_option("--group", group_name, "consumer group name")->required();

  riffle::trigger::TriggerOptions trigger_options;
  std::string starting_position = "LATEST";
  std::string starting_timestamp;
  double batching_window_s = 0;
  int64_t maximum_record_age_s = -1;
  double function_timeout_s = 30;
  double lease_duration_s = 10;
  CLI::App* trigger = app.add_subcommand(
      "trigger", "call a handler with every batch of a stream's records, as a Lambda trigger");
  trigger->add_option("--stream", trigger_options.stream, "stream name or ARN")->required();
  trigger->add_option("--group", trigger_options.group,
                      "consumer group: its checkpoints and leases are kept by riffled, so "
                      "runners with the same group share the shards")
      ->required();
  CLI::Option* python = trigger->add_option("--python", trigger_options.python,
                                            "FILE.py:FUNCTION, called as FUNCTION(event, context)");
  CLI::Option* exec = trigger->add_option(
      "--exec", trigger_options.exec, "shell command: the event on stdin, the response on stdout");
  CLI::Option* url =
      trigger->add_option("--url", trigger_options.url, "http:// URL the event is POSTed to");
  python->excludes(exec)->excludes(url);
  exec->excludes(url);
  trigger->add_option("--batch-size", trigger_options.batch_size, "records per call, 1-10000")
      ->capture_default_str();
  trigger->add_option("--starting-position", starting_position,
                      "where a new group starts: TRIM_HORIZON | LATEST | AT_TIMESTAMP")
      ->capture_default_str();
  trigger->add_option("--timestamp", starting_timestamp,
                      "RFC 3339 time, with --starting-position AT_TIMESTAMP");
  trigger->add_option("--max-batching-window-s", batching_window_s,
                      "gather records this long before a call with fewer than --batch-size")
      ->check(CLI::Range(0.0, 300.0));
  trigger->add_option("--maximum-retry-attempts", trigger_options.maximum_retry_attempts,
                      "retries of a failing batch; -1: until it succeeds")
      ->check(CLI::Range(-1, 10000))
      ->capture_default_str();
  trigger->add_option("--maximum-record-age-s", maximum_record_age_s,
                      "a failing batch older than this goes to --on-failure; -1: no limit")
      ->check(CLI::Range(int64_t{-1}, int64_t{604800}))
      ->capture_default_str();
  trigger->add_flag("--bisect-batch-on-function-error",
                    trigger_options.bisect_batch_on_function_error,
                    "split a failing batch in two and retry each half");
  trigger->add_flag("--report-batch-item-failures", trigger_options.report_batch_item_failures,
                    "honour {\"batchItemFailures\": [...]} answers");
  trigger->add_option("--parallelization-factor", trigger_options.parallelization_factor,
                      "batches of one shard handled at once, 1-10; order kept per partition key")
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  trigger->add_option("--consumer", trigger_options.consumer,
                      "receive records by SubscribeToShard as this consumer (registered if "
                      "missing) instead of polling GetRecords");
  trigger->add_option("--on-failure", trigger_options.on_failure,
                      "stream:NAME | file:PATH: where a batch that exhausted its retries goes");
  trigger->add_option("--function-timeout-s", function_timeout_s,
                      "a call still running after this is killed and fails")
      ->check(CLI::Range(0.1, 900.0))
      ->capture_default_str();
  trigger->add_option("--lease-duration-s", lease_duration_s,
                      "a dead runner's shards move to the others after this")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  const riffle::cli::Output output{.out = std::cout, .err = std::cerr, .json = json};
  if (certs_create->parsed()) {  // needs no server
    const riffle::Status created = riffle::cli::CreateCertificates(output, certs_dir);
    std::cout.flush();
    return created.ok() ? 0 : Fail(created);
  }

  riffle::client::ClientOptions client_options;
  client_options.endpoint = endpoint;
  client_options.credentials = credentials;
  client_options.tls_ca_file = tls_ca;
  client_options.tls_cert_file = tls_cert;
  client_options.tls_key_file = tls_key;
  riffle::client::Client client(client_options);
  riffle::Status status;
  if (create->parsed()) {
    if (replication_option->count() > 0) {
      create_args.replication_factor = replication_factor;
    }
    if (shards_option->count() > 0) {
      create_args.shards = shards;
    }
    status = riffle::cli::CreateStream(client, output, create_args);
  } else if (list->parsed()) {
    status = riffle::cli::ListStreams(client, output);
  } else if (describe->parsed()) {
    status = riffle::cli::DescribeStream(client, output, describe_name);
  } else if (remove->parsed()) {
    status = riffle::cli::DeleteStream(client, output, delete_name, enforce_consumer_deletion);
  } else if (split->parsed()) {
    status = riffle::cli::SplitShard(client, output, split_args);
  } else if (merge->parsed()) {
    status = riffle::cli::MergeShards(client, output, merge_args);
  } else if (scale->parsed()) {
    status = riffle::cli::ScaleStream(client, output, scale_args);
  } else if (produce->parsed()) {
    if (!input_file.empty()) {
      produce_args.input_fd = open(input_file.c_str(), O_RDONLY | O_CLOEXEC);
      if (produce_args.input_fd < 0) {
        std::cerr << "riffle: cannot open " << input_file << ": " << std::strerror(errno) << "\n";
        return 1;
      }
    }
    produce_args.show_progress = isatty(STDERR_FILENO) == 1;
    status = riffle::cli::Produce(client, output, produce_args);
  } else if (tail->parsed()) {
    std::signal(SIGINT, RequestStop);
    std::signal(SIGTERM, RequestStop);
    tail_args.stop = &stop_requested;
    status = riffle::cli::Tail(client, output, tail_args);
  } else if (register_consumer->parsed()) {
    status = riffle::cli::RegisterConsumer(client, output, consumer_stream, consumer_name);
  } else if (list_consumers->parsed()) {
    status = riffle::cli::ListConsumers(client, output, consumer_stream);
  } else if (describe_consumer->parsed()) {
    status = riffle::cli::DescribeConsumer(client, output, consumer_stream, consumer_name);
  } else if (deregister_consumer->parsed()) {
    status = riffle::cli::DeregisterConsumer(client, output, consumer_stream, consumer_name);
  } else if (cluster_status->parsed()) {
    status = riffle::cli::ClusterStatus(client, output);
  } else if (describe_group->parsed()) {
    status = riffle::cli::DescribeGroup(client, output, group_stream, group_name);
  } else if (trigger->parsed()) {
    if (python->count() + exec->count() + url->count() != 1) {
      std::cerr << "riffle: trigger needs one of --python, --exec or --url\n";
      return 2;
    }
    const auto seconds = [](double s) {
      return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
    };
    trigger_options.max_batching_window = seconds(batching_window_s);
    trigger_options.maximum_record_age = std::chrono::seconds(maximum_record_age_s);
    trigger_options.function_timeout = seconds(function_timeout_s);
    trigger_options.lease_duration = seconds(lease_duration_s);
    riffle::StatusOr<riffle::client::IteratorPosition> start =
        riffle::cli::ParseLambdaStartingPosition(starting_position, starting_timestamp);
    if (!start.ok()) {
      return Fail(start.status());
    }
    trigger_options.starting_position = *start;
    std::signal(SIGINT, RequestStop);
    std::signal(SIGTERM, RequestStop);
    std::signal(SIGPIPE, SIG_IGN);  // a handler that exits early must not kill the runner
    status = riffle::trigger::RunTrigger(client, output, trigger_options, stop_requested);
  } else if (subscribe->parsed()) {
    std::signal(SIGINT, RequestStop);
    std::signal(SIGTERM, RequestStop);
    subscribe_args.stop = &stop_requested;
    status = riffle::cli::Subscribe(client, output, subscribe_args);
  }
  std::cout.flush();
  if (!status.ok()) {
    return Fail(status);
  }
  return 0;
}
