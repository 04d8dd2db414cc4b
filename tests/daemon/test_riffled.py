"""riffled as an operator meets it: the config file, a second daemon on a busy data directory,
bad flags, and SIGINT. Drives the real binary (RIFFLED) with boto3."""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import RiffledProcess, riffled_path


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="riffle-daemon-")
        self.addCleanup(self.tmp.cleanup)

    def start(self, *args, data_dir=None):
        proc = RiffledProcess(extra_args=args, data_dir=data_dir)
        proc.start()
        self.addCleanup(lambda: proc.stop() if proc.proc and proc.proc.poll() is None else None)
        return proc

    def test_config_file_sets_the_same_options_as_flags(self):
        config = os.path.join(self.tmp.name, "riffled.toml")
        with open(config, "w") as f:
            f.write('shard-quotas = "off"\nfsync = "never"\n')
        proc = self.start("--config", config)
        kinesis = proc.client(retries=False)
        kinesis.create_stream(StreamName="s", ShardCount=1)
        records = [{"Data": b"x", "PartitionKey": "k"}] * 500
        # 1,500 records in a moment overrun a provisioned shard's 1,000/s unless quotas are off.
        failed = sum(kinesis.put_records(StreamName="s", Records=records)["FailedRecordCount"]
                     for _ in range(3))
        self.assertEqual(failed, 0)

    def test_an_unknown_config_key_is_an_error_that_names_it(self):
        config = os.path.join(self.tmp.name, "riffled.toml")
        with open(config, "w") as f:
            f.write('fsync = "never"\nshard-quota = "off"\n')  # shard-quotas, misspelt
        out = subprocess.run([riffled_path(), "--config", config, "--data-dir", self.tmp.name],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("shard-quota", out.stdout + out.stderr)

    def test_print_config_shows_the_effective_configuration(self):
        config = os.path.join(self.tmp.name, "riffled.toml")
        with open(config, "w") as f:
            f.write('fsync = "never"\n')
        out = subprocess.run([riffled_path(), "--config", config, "--kinesis-port", "4600",
                              "--print-config"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertIn('fsync="never"', lines)       # from the file
        self.assertIn("kinesis-port=4600", lines)   # from the command line
        self.assertIn("grpc-port=50051", lines)     # a default
        self.assertFalse(any(line.startswith("print-config") for line in lines), out.stdout)

    def test_json_logs_are_one_object_per_line_and_say_what_happened(self):
        proc = self.start("--log-format=json")
        proc.client().create_stream(StreamName="logged", ShardCount=2)
        proc.stop()
        with open(proc.log_path) as f:
            lines = [line for line in f if not line.startswith("===")]
        records = [json.loads(line) for line in lines]
        self.assertTrue(records)
        for record in records:
            self.assertEqual(set(record), {"time", "level", "msg"}, record)
        messages = [r["msg"] for r in records]
        self.assertIn("stream logged created: 2 shards, PROVISIONED, account 000000000000",
                      messages)
        self.assertTrue(any(m.startswith("riffled ready") for m in messages), messages)

    def test_a_second_daemon_on_the_same_data_dir_refuses_to_start(self):
        first = self.start()
        second = subprocess.run(
            [riffled_path(), "--data-dir", first.data_dir, "--kinesis-port", "0",
             "--grpc-port", "0", "--metrics-port", "0"],
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(second.returncode, 0)
        self.assertIn("is in use by another riffled", second.stdout + second.stderr)
        # The first one is unharmed.
        first.client().list_streams()

    def test_bad_flag_values_are_refused_with_a_message(self):
        for args in (["--fsync=sometimes"], ["--shard-quotas=maybe"], ["--kinesis-port", "70000"],
                     ["--log-level", "chatty"], ["--log-format", "xml"]):
            with self.subTest(args=args):
                out = subprocess.run([riffled_path(), "--data-dir", self.tmp.name, *args],
                                     capture_output=True, text=True, timeout=30)
                self.assertNotEqual(out.returncode, 0)
                self.assertTrue(out.stderr.strip() or out.stdout.strip())

    def test_sigint_drains_and_exits_zero_keeping_acknowledged_records(self):
        proc = self.start()
        kinesis = proc.client()
        kinesis.create_stream(StreamName="s", ShardCount=1)
        seq = kinesis.put_record(StreamName="s", Data=b"kept", PartitionKey="k")["SequenceNumber"]
        proc.proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.proc.wait(timeout=30), 0)
        again = self.start(data_dir=proc.data_dir)
        client = again.client()
        it = client.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = client.get_records(ShardIterator=it)["Records"]
        self.assertEqual([(r["Data"], r["SequenceNumber"]) for r in records], [(b"kept", seq)])


if __name__ == "__main__":
    unittest.main()
