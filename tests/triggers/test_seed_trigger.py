"""The seed tutorial's Lambda step with Riffle: its producer (the text the
Kinesis seed test runs) writes, and its lambda_handler (lambda_function.py,
copied verbatim) runs under `riffle trigger --python` and prints every record
decoded."""

import json
import os
import subprocess
import sys
import unittest

from harness import ACCESS_KEY, REGION, SECRET_KEY
from test_seed_tutorial import PRODUCER
from trigger_harness import HERE, TriggerTestCase


class SeedTriggerTest(TriggerTestCase):

    def test_seed_handler_prints_every_record_of_the_seed_producer(self):
        self.create_stream("my-data-stream", 1)
        runner = self.run_trigger("my-data-stream", "seed",
                                  "--python", os.path.join(HERE, "lambda_function.py") +
                                  ":lambda_handler",
                                  "--batch-size", "100", "--starting-position", "TRIM_HORIZON")
        env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{self.riffled.port}",
                   AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION)
        produced = subprocess.run([sys.executable, self.write_script("producer.py", PRODUCER)],
                                  env=env,
                                  capture_output=True, text=True, timeout=60)
        self.assertEqual(produced.returncode, 0, produced.stderr)

        expected = [f"Decoded data: {json.dumps({'event_id': i, 'message': 'Kinesis test'})}"
                    for i in range(10)]
        self.wait_for(lambda: runner.output().count("Decoded data:") >= 10, 30,
                      "the handler to print 10 records")
        self.assertEqual(runner.output().splitlines(), expected)
        self.wait_for(lambda: all(s["lag_records"] == 0 and s["lag_ms"] == 0
                                  for s in self.describe_group("my-data-stream", "seed")),
                      10, "the group's lag to reach 0")
        self.assertEqual(runner.stop(), 0, runner.progress())
        self.assertIn("10 records delivered", runner.progress())

    def test_group_describe_shows_lag_falling_to_zero_and_progress_is_json(self):
        self.create_stream("orders", 2)
        self.riffle("produce", "orders", "--key", "k1", input_text="".join(
            f"r{i}\n" for i in range(50)))
        self.riffle("produce", "orders", "--key", "other", input_text="x\ny\n")
        runner = self.run_trigger("orders", "lagging", "--exec", "cat > /dev/null",
                                  "--starting-position", "TRIM_HORIZON", "--batch-size", "10",
                                  "--json")
        before = self.describe_group("orders", "lagging")
        self.assertEqual(sorted(s["shard_id"] for s in before),
                         ["shardId-000000000000", "shardId-000000000001"])
        self.assertEqual(set(before[0]), {"shard_id", "checkpoint", "lag_records", "lag_ms",
                                          "closed", "finished", "lease_owner", "lease_expires",
                                          "lease_counter"})
        self.wait_for(lambda: all(s["lag_records"] == 0 and s["lag_ms"] == 0 and s["checkpoint"]
                                  for s in self.describe_group("orders", "lagging")),
                      30, "lag 0 on both shards")
        self.assertEqual(runner.stop(), 0, runner.progress())
        # --json (after the subcommand, like every global flag): stderr is JSON lines only.
        events = [json.loads(line) for line in runner.progress().splitlines()]
        self.assertEqual(events[-1]["records"], 52, events[-1])
        self.assertEqual(sorted(e["shard_id"] for e in events if "shard_id" in e),
                         ["shardId-000000000000", "shardId-000000000001"])

    def test_unknown_stream_is_a_clear_error(self):
        out = subprocess.run([self.cli, "trigger", "--stream", "nope", "--group", "g", "--exec",
                              "true", "--endpoint", self.grpc_endpoint],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("ResourceNotFoundException", out.stderr)
        self.assertIn("nope", out.stderr)


if __name__ == "__main__":
    unittest.main()
