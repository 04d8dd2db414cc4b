"""The --url handler, and order per partition key across a reshard during a
run, with the real riffled and `riffle trigger`."""

import base64
import http.server
import json
import os
import sys
import threading
import unittest

from test_delivery import HANDLER, batches, first_deliveries
from trigger_harness import TriggerTestCase


class Recorder(http.server.BaseHTTPRequestHandler):
    """Keeps the data of every record POSTed; answers 500 while `failing`."""

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        if server.failing:
            server.failures += 1
            self.send_response(500)
            self.end_headers()
            return
        server.seen += [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class HandlersTest(TriggerTestCase):

    def test_url_handler_gets_every_record_and_a_5xx_is_retried(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        server.seen, server.failing, server.failures = [], True, 0
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        self.create_stream("orders", 1)
        self.riffle("produce", "orders", "--key", "k", input_text="a\nb\nc\n")
        runner = self.run_trigger("orders", "web", "--url",
                                  f"http://127.0.0.1:{server.server_address[1]}/invoke",
                                  "--starting-position", "TRIM_HORIZON")
        self.wait_for(lambda: server.failures >= 2, 20, "two failed POSTs")
        server.failing = False
        self.wait_for(lambda: server.seen == ["a", "b", "c"], 20, "the records after the 500s")
        self.assertEqual(runner.stop(), 0, runner.progress())
        self.assertIn("handler answered HTTP 500", runner.progress())

    def test_each_partition_keys_order_holds_across_a_split_during_the_run(self):
        self.create_stream("orders", 1)
        keys = [f"user-{i}" for i in range(8)]
        log = os.path.join(self.work_dir, "seen.log")
        runner = self.run_trigger("orders", "g", "--exec",
                                  f"{sys.executable} {HANDLER} {log} record 0.05",
                                  "--batch-size", "10", "--starting-position", "TRIM_HORIZON")
        for key in keys:
            self.riffle("produce", "orders", "--key", key,
                        input_text="".join(f"{key}:{i:02d}\n" for i in range(20)))
        self.riffle("stream", "split", "orders", "--shard", "shardId-000000000000",
                    "--hash-key", str(2**127))
        for key in keys:
            self.riffle("produce", "orders", "--key", key,
                        input_text="".join(f"{key}:{i:02d}\n" for i in range(20, 40)))
        expected = {f"{key}:{i:02d}" for key in keys for i in range(40)}
        self.wait_for(lambda: {d for b in batches(log) for _, d in b} >= expected, 60,
                      "every record, parents' and children's")
        self.assertEqual(runner.stop(), 0, runner.progress())
        for key in keys:
            self.assertEqual(first_deliveries(log, key + ":"), [f"{key}:{i:02d}" for i in range(40)],
                             f"order of {key}")
        shards = {s["shard_id"]: s for s in self.describe_group("orders", "g")}
        self.assertTrue(shards["shardId-000000000000"]["finished"])
        self.assertEqual(len(shards), 3)


if __name__ == "__main__":
    unittest.main()
