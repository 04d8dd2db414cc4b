"""What riffled's log tells an operator about calls, read from the log of the real daemon:
the access log of both ports, slow calls, `--log-level debug`, and the throttling summary.
(Server errors are checked where one can be caused for real: security/test_disk_full.)"""

import os
import re
import subprocess
import tempfile
import time
import unittest

from harness import RiffledProcess, wait_for

CLI = os.environ.get("RIFFLE_CLI")


class CallLogTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="riffle-logs-")
        self.addCleanup(self.tmp.cleanup)

    def start(self, *args):
        proc = RiffledProcess(extra_args=args)
        proc.start()
        self.addCleanup(lambda: proc.stop() if proc.proc and proc.proc.poll() is None else None)
        return proc

    def log_lines(self, proc, pattern):
        return [line for line in proc.log_tail(10**7).splitlines() if re.search(pattern, line)]

    @unittest.skipUnless(CLI, "RIFFLE_CLI names the riffle command-line client")
    def test_the_access_log_shows_every_call_of_both_ports(self):
        proc = self.start("--access-log")
        kinesis = proc.client()
        kinesis.create_stream(StreamName="seen", ShardCount=1)
        kinesis.put_record(StreamName="seen", Data=b"x", PartitionKey="k")
        with self.assertRaises(kinesis.exceptions.ResourceNotFoundException):
            kinesis.describe_stream_summary(StreamName="missing")
        subprocess.run([CLI, "stream", "list", "--endpoint", f"127.0.0.1:{proc.ports['grpc']}"],
                       check=True, capture_output=True, timeout=30)
        peer = r"127\.0\.0\.1:\d+"
        self.assertTrue(self.log_lines(
            proc, rf"access api=kinesis op=CreateStream peer={peer} key=- outcome=ok ms="))
        self.assertTrue(self.log_lines(proc, r"access api=kinesis op=PutRecord .* outcome=ok"))
        self.assertTrue(self.log_lines(
            proc, r"access api=kinesis op=DescribeStreamSummary .* "
                  r"outcome=ResourceNotFoundException"))
        self.assertTrue(self.log_lines(
            proc, rf"access api=grpc op=/riffle\.v1\.Riffle/ListStreams peer=ipv4:{peer} key=- "
                  r"outcome=OK"))

    def test_without_the_access_log_calls_show_only_at_debug_level(self):
        quiet = self.start()
        quiet.client().list_streams()
        self.assertEqual(self.log_lines(quiet, r"access api="), [])
        chatty = self.start("--log-level", "debug")
        chatty.client().list_streams()
        self.assertTrue(self.log_lines(chatty, r"access api=kinesis op=ListStreams"))

    def test_slow_calls_are_warned_about(self):
        proc = self.start("--slow-call-ms", "1", "--shard-quotas", "off")
        kinesis = proc.client()
        kinesis.create_stream(StreamName="slow", ShardCount=1)
        # 5 MB of base64 to decode and fsync: well over a millisecond.
        records = [{"Data": os.urandom(10_000), "PartitionKey": str(i)} for i in range(500)]
        kinesis.put_records(StreamName="slow", Records=records)
        self.assertTrue(self.log_lines(
            proc, r"slow call: kinesis PutRecords from 127\.0\.0\.1:\d+ \(key -\) took "
                  r"[0-9.]+ ms, answered ok"), proc.log_tail())

    def test_throttling_is_summed_up_per_stream(self):
        proc = self.start("--throttle-summary-s", "1")
        kinesis = proc.client(retries=False)
        kinesis.create_stream(StreamName="busy", ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName="busy", WaiterConfig={"Delay": 0.2})
        records = [{"Data": b"x", "PartitionKey": str(i)} for i in range(500)]
        # A provisioned shard takes 1,000 records/s: the rest of 3,000 at once are refused.
        refused = sum(kinesis.put_records(StreamName="busy", Records=records)["FailedRecordCount"]
                      for _ in range(6))
        self.assertGreater(refused, 0)

        def summaries():
            return self.log_lines(proc, r"stream busy: its shard quotas refused")

        def counted():
            return sum(int(re.search(r"refused (\d+) records", line).group(1))
                       for line in summaries())

        # Refusals may straddle two summaries: together they count each refused record once.
        wait_for(lambda: counted() >= refused, 10, interval=0.2, what="the throttling summary")
        self.assertEqual(counted(), refused, summaries())
        lines = summaries()
        # Nothing more is refused, so nothing more is summed up.
        time.sleep(2.5)
        self.assertEqual(len(self.log_lines(proc, r"stream busy: its shard quotas refused")),
                         len(lines))


if __name__ == "__main__":
    unittest.main()
