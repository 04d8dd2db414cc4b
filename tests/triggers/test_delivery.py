"""At-least-once delivery in order, with failures: `riffle trigger --exec`
with exec_handler.py against the real riffled."""

import json
import os
import sys
import unittest

from trigger_harness import HERE, TriggerTestCase

HANDLER = os.path.join(HERE, "exec_handler.py")


def lines(path):
    """The lines of a file the runner or the handler appends to; none before it exists."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in f.read().splitlines() if line.strip()]


def batches(log):
    """The batches the handler saw: lists of [shard, data]."""
    return [json.loads(line) for line in lines(log)]


def first_deliveries(log, prefix):
    """The records starting with `prefix` in the order of their first delivery: at least once
    means a record may come again, and only its first time tells the order."""
    firsts = []
    for batch in batches(log):
        for _, data in batch:
            if data.startswith(prefix) and data not in firsts:
                firsts.append(data)
    return firsts


class DeliveryTest(TriggerTestCase):

    def handler(self, log, *mode):
        return ["--exec", " ".join([sys.executable, HANDLER, log, *mode])]

    def produce(self, stream, key, values):
        self.riffle("produce", stream, "--key", key, input_text="".join(v + "\n" for v in values))

    def test_kill9_of_the_runner_skips_nothing_and_keeps_each_shards_order(self):
        self.create_stream("orders", 2)
        values = {key: [f"{key}-{i:03d}" for i in range(100)] for key in ("a", "b", "c", "d")}
        for key, vals in values.items():
            self.produce("orders", key, vals)
        log = os.path.join(self.work_dir, "seen.log")
        first = self.run_trigger("orders", "g", *self.handler(log, "record", "0.2"),
                                 "--batch-size", "10", "--starting-position", "TRIM_HORIZON",
                                 "--lease-duration-s", "2")
        self.wait_for(lambda: sum(len(b) for b in batches(log)) >= 60, 60, "60 records handled")
        first.kill9()  # mid-stream, and likely mid-batch: a batch in the handler is not checkpointed
        second = self.run_trigger("orders", "g", *self.handler(log, "record"),
                                  "--batch-size", "10", "--lease-duration-s", "2")
        seen = lambda: {data for b in batches(log) for _, data in b}
        everything = {v for vals in values.values() for v in vals}
        self.wait_for(lambda: seen() >= everything, 60, "every record handled after the restart")
        self.assertEqual(second.stop(), 0, second.progress())
        # Per key (each key lives in one shard), the first delivery of each record comes in
        # the order it was written; replays after the kill only repeat a suffix.
        for key, vals in values.items():
            self.assertEqual(first_deliveries(log, key + "-"), vals, f"order of key {key}")
        # Within each batch, records of a shard are in order.
        for b in batches(log):
            for shard in {s for s, _ in b}:
                datas = [d for s, d in b if s == shard]
                for key in values:
                    of_key = [d for d in datas if d.startswith(key + "-")]
                    self.assertEqual(of_key, sorted(of_key))
        self.assertTrue(all(s["lag_records"] == 0 for s in self.describe_group("orders", "g")))

    def test_sigterm_finishes_the_batch_in_flight_and_checkpoints_it(self):
        self.create_stream("orders", 1)
        self.produce("orders", "k", [f"r{i}" for i in range(5)])
        log = os.path.join(self.work_dir, "seen.log")
        runner = self.run_trigger("orders", "g", *self.handler(log, "record", "2"),
                                  "--starting-position", "TRIM_HORIZON")
        self.wait_for(lambda: batches(log), 20, "the handler to start on the batch")
        self.assertEqual(runner.stop(), 0, runner.progress())  # while the handler sleeps
        shard = self.describe_group("orders", "g")[0]
        self.assertEqual(shard["lag_records"], 0, shard)
        again = self.run_trigger("orders", "g", *self.handler(log, "record"))
        self.wait_for(lambda: "leased, from after" in again.progress(), 20,
                      "the second runner to lease the shard")
        self.assertEqual(again.stop(), 0, again.progress())
        self.assertEqual(len(batches(log)), 1, "the checkpointed batch came again")

    def test_failing_batch_is_retried_then_described_to_the_on_failure_file(self):
        self.create_stream("orders", 1)
        self.produce("orders", "k", ["a", "poison", "b"])
        log = os.path.join(self.work_dir, "seen.log")
        failures = os.path.join(self.work_dir, "failures.jsonl")
        runner = self.run_trigger("orders", "g", *self.handler(log, "fail-on", "poison"),
                                  "--batch-size", "1", "--starting-position", "TRIM_HORIZON",
                                  "--maximum-retry-attempts", "2",
                                  "--on-failure", "file:" + failures)
        self.wait_for(lambda: [["shardId-000000000000", "b"]] in batches(log), 30,
                      "the record after the poison one")
        self.assertEqual([b[0][1] for b in batches(log)], ["a", "poison", "poison", "poison", "b"])
        self.assertEqual(len(lines(failures)), 1)
        failure = json.loads(lines(failures)[0])
        self.assertEqual(failure["requestContext"]["condition"], "RetryAttemptsExhausted")
        self.assertEqual(failure["requestContext"]["approximateInvokeCount"], 3)
        self.assertEqual(failure["version"], "1.0")
        info = failure["KinesisBatchInfo"]
        self.assertEqual(info["shardId"], "shardId-000000000000")
        self.assertEqual(info["batchSize"], 1)
        self.assertEqual(info["startSequenceNumber"], info["endSequenceNumber"])
        self.assertTrue(info["streamArn"].endswith(":stream/orders"))
        self.assertEqual(runner.stop(), 0, runner.progress())
        self.assertIn("handler exited with status 1", runner.progress())

    def test_bisect_isolates_the_failing_record(self):
        self.create_stream("orders", 1)
        self.produce("orders", "k", ["r0", "r1", "r2", "poison", "r4", "r5", "r6", "r7"])
        log = os.path.join(self.work_dir, "seen.log")
        failures = os.path.join(self.work_dir, "failures.jsonl")
        runner = self.run_trigger("orders", "g", *self.handler(log, "fail-on", "poison"),
                                  "--batch-size", "8", "--starting-position", "TRIM_HORIZON",
                                  "--maximum-retry-attempts", "0",
                                  "--bisect-batch-on-function-error",
                                  "--on-failure", "file:" + failures)
        self.wait_for(lambda: lines(failures) and
                      any(b[-1][1] == "r7" and len(b) < 8 for b in batches(log)), 30,
                      "the halves after the poison record")
        infos = [json.loads(line)["KinesisBatchInfo"] for line in lines(failures)]
        self.assertEqual([i["batchSize"] for i in infos], [1])
        self.assertEqual(runner.stop(), 0, runner.progress())

    def test_partial_batch_response_checkpoints_exactly_up_to_the_failed_record(self):
        self.create_stream("orders", 1)
        self.produce("orders", "k", ["r0", "r1", "r2", "bad", "r4", "r5"])
        log = os.path.join(self.work_dir, "seen.log")
        runner = self.run_trigger("orders", "g", *self.handler(log, "fail-once", "bad"),
                                  "--batch-size", "10", "--starting-position", "TRIM_HORIZON",
                                  "--report-batch-item-failures")
        self.wait_for(lambda: len(batches(log)) >= 2, 30, "the retry of the failed part")
        datas = [[d for _, d in b] for b in batches(log)]
        self.assertEqual(datas[0], ["r0", "r1", "r2", "bad", "r4", "r5"])
        self.assertEqual(datas[1], ["bad", "r4", "r5"])
        self.wait_for(lambda: self.describe_group("orders", "g")[0]["lag_records"] == 0, 10,
                      "the checkpoint at the last record")
        self.assertEqual(runner.stop(), 0, runner.progress())

    def test_output_that_is_not_json_and_a_hanging_handler_are_failures(self):
        self.create_stream("orders", 1)
        self.produce("orders", "k", ["x"])
        log = os.path.join(self.work_dir, "seen.log")
        failures = os.path.join(self.work_dir, "failures.jsonl")
        text = self.run_trigger("orders", "text", *self.handler(log, "not-json"),
                                "--starting-position", "TRIM_HORIZON",
                                "--maximum-retry-attempts", "0",
                                "--on-failure", "file:" + failures)
        hung = self.run_trigger("orders", "hung", *self.handler(log, "hang"),
                                "--starting-position", "TRIM_HORIZON",
                                "--maximum-retry-attempts", "0", "--function-timeout-s", "1",
                                "--on-failure", "file:" + failures)
        self.wait_for(lambda: len(lines(failures)) == 2, 30, "two failure records")
        self.assertIn('handler output is not JSON: "this is not json at all', text.progress())
        self.assertIn("handler timed out after 1000 ms and was killed", hung.progress())
        self.assertEqual(text.stop(), 0)
        self.assertEqual(hung.stop(), 0)


if __name__ == "__main__":
    unittest.main()
