"""Delivering a shard faster: the parallelization factor (several batches of one shard at once,
in order per partition key) and push delivery through a registered consumer
(SubscribeToShard instead of GetRecords), against the real riffled."""

import os
import sys
import unittest
import urllib.request

from harness import MetricsRiffled
from trigger_harness import HERE, TriggerTestCase
from test_delivery import batches, first_deliveries, lines

HANDLER = os.path.join(HERE, "exec_handler.py")
KEYS = [f"key{i}" for i in range(12)]


class FanOutTest(TriggerTestCase):
    riffled_factory = MetricsRiffled

    def handler(self, log, *mode):
        return ["--exec", " ".join([sys.executable, HANDLER, log, *mode])]

    def produce_keys(self, stream, per_key):
        """Records of all keys interleaved, so every read holds many keys."""
        records = [{"Data": f"{key}-{i:03d}".encode(), "PartitionKey": key}
                   for i in range(per_key) for key in KEYS]
        out = self.kinesis.put_records(StreamName=stream, Records=records)
        self.assertEqual(out["FailedRecordCount"], 0, out)

    def most_at_once(self, log):
        return max((int(n) for n in lines(log + ".overlap")), default=0)

    def get_records_calls(self, stream):
        url = f"http://127.0.0.1:{self.riffled.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as resp:
            text = resp.read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("riffle_operation_calls_total{")
                   and 'operation="GetRecords"' in line and f'stream="{stream}"' in line)

    def deliver_with_factor(self, factor):
        """Runs a trigger over one shard of 12 keys x 10 records; returns the handler log once
        every record came and the checkpoint is at the shard's last record."""
        stream = f"orders{factor}"
        self.create_stream(stream, 1)
        self.produce_keys(stream, 10)
        log = os.path.join(self.work_dir, f"seen{factor}.log")
        runner = self.run_trigger(stream, "g", *self.handler(log, "overlap", "0.4"),
                                  "--batch-size", "5", "--starting-position", "TRIM_HORIZON",
                                  "--parallelization-factor", str(factor))
        self.wait_for(lambda: len({d for b in batches(log) for _, d in b}) == 120, 60,
                      "all 120 records at the handler")
        self.wait_for(lambda: self.describe_group(stream, "g")[0]["lag_records"] == 0, 20,
                      "the checkpoint at the last record")
        self.assertEqual(runner.stop(), 0, runner.progress())
        for batch in batches(log):
            self.assertLessEqual(len(batch), 5, batch)
        for key in KEYS:
            self.assertEqual(first_deliveries(log, key + "-"),
                             [f"{key}-{i:03d}" for i in range(10)], f"order of {key}")
        return log

    def test_parallelization_factor_runs_batches_of_one_shard_at_once_in_key_order(self):
        log = self.deliver_with_factor(4)
        self.assertGreaterEqual(self.most_at_once(log), 2,
                                "with a factor of 4, batches of the shard ran at once")

    def test_a_factor_of_one_runs_one_batch_at_a_time(self):
        log = self.deliver_with_factor(1)
        self.assertEqual(self.most_at_once(log), 1)

    def test_a_factor_outside_1_to_10_is_refused(self):
        self.create_stream("orders", 1)
        runner = self.run_trigger("orders", "g", "--exec", "true",
                                  "--parallelization-factor", "11")
        self.assertNotEqual(runner.proc.wait(timeout=30), 0)
        self.assertIn("--parallelization-factor", runner.progress())

    def test_consumer_pushes_records_by_subscription_without_get_records(self):
        self.create_stream("push", 2)
        self.produce_keys("push", 5)
        log = os.path.join(self.work_dir, "push.log")
        runner = self.run_trigger("push", "g", *self.handler(log, "record"),
                                  "--consumer", "push-runner",
                                  "--starting-position", "TRIM_HORIZON")
        self.wait_for(lambda: len({d for b in batches(log) for _, d in b}) == 60, 60,
                      "all 60 records at the handler")
        # Records written while the runner waits are pushed to it too.
        self.riffle("produce", "push", "--key", "late", input_text="late-0\nlate-1\n")
        self.wait_for(lambda: {"late-0", "late-1"} <= {d for b in batches(log) for _, d in b},
                      30, "the records written later")
        self.wait_for(lambda: all(s["lag_records"] == 0
                                  for s in self.describe_group("push", "g")), 20,
                      "checkpoints at the last records")
        self.assertEqual(runner.stop(), 0, runner.progress())
        self.assertEqual(self.get_records_calls("push"), 0,
                         "a runner with --consumer reads by SubscribeToShard only")
        consumers = self.riffle("consumer", "list", "push")
        self.assertIn("push-runner", consumers)
        for key in KEYS:
            self.assertEqual(first_deliveries(log, key + "-"),
                             [f"{key}-{i:03d}" for i in range(5)], f"order of {key}")

    def test_without_a_consumer_the_runner_polls(self):
        self.create_stream("poll", 1)
        self.produce_keys("poll", 1)
        log = os.path.join(self.work_dir, "poll.log")
        runner = self.run_trigger("poll", "g", *self.handler(log, "record"),
                                  "--starting-position", "TRIM_HORIZON")
        self.wait_for(lambda: len({d for b in batches(log) for _, d in b}) == 12, 60,
                      "all 12 records at the handler")
        self.assertEqual(runner.stop(), 0, runner.progress())
        self.assertGreater(self.get_records_calls("poll"), 0)


if __name__ == "__main__":
    unittest.main()
