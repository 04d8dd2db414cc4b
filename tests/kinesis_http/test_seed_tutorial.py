"""The Kinesis tutorial users start from, run verbatim against riffled.

Every shell command and both boto3 scripts of the tutorial are copied below
unchanged. The only additions are the endpoint (AWS_ENDPOINT_URL for boto3;
for the CLI also a shell function that passes --endpoint-url, so that CLI
releases older than the environment variable work too) and what the tutorial
leaves to its reader: the iterator printed by get-shard-iterator replaces
`<IteratorReturnedAbove>`, the producer's one-second sleep is shortened and
the endless consumer loop is stopped after it printed the 10 records.

Two walks, as a user does them, each on a fresh `my-data-stream`:
the CLI walk (create, describe-stream-summary, put-record, describe-stream,
get-shard-iterator, get-records, delete-stream) and the Python walk (create,
the boto3 producer, the boto3 consumer, delete).
"""

import ast
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import botocore.exceptions

from harness import RiffledTestCase, available_clis, wait_for

STREAM = "my-data-stream"

# ---- the tutorial's commands, verbatim --------------------------------------

CREATE_STREAM = """\
aws kinesis create-stream \\
  --stream-name my-data-stream \\
  --shard-count 1
"""

DESCRIBE_STREAM_SUMMARY = """\
aws kinesis describe-stream-summary \\
  --stream-name my-data-stream
"""

PUT_RECORD = """\
aws kinesis put-record \\
  --stream-name my-data-stream \\
  --partition-key "user-1" \\
  --data "SGVsbG8gS2luZXNpcw=="  # "Hello Kinesis" base64
"""

DESCRIBE_STREAM = """\
aws kinesis describe-stream \\
  --stream-name my-data-stream
"""

GET_SHARD_ITERATOR = """\
aws kinesis get-shard-iterator \\
  --stream-name my-data-stream \\
  --shard-id shardId-000000000000 \\
  --shard-iterator-type TRIM_HORIZON
"""

GET_RECORDS = """\
aws kinesis get-records \\
  --shard-iterator <IteratorReturnedAbove>
"""

DELETE_STREAM = """\
aws kinesis delete-stream \\
  --stream-name my-data-stream
"""

PRODUCER = """\
import boto3
import json
import time

kinesis = boto3.client('kinesis')

stream_name = 'my-data-stream'

for i in range(10):
    data = {'event_id': i, 'message': 'Kinesis test'}
    kinesis.put_record(
        StreamName=stream_name,
        Data=json.dumps(data),
        PartitionKey='partition-{}'.format(i % 2)
    )
    time.sleep(1)
"""

CONSUMER = """\
import boto3
import json

kinesis = boto3.client('kinesis')
stream_name = 'my-data-stream'

# Shard ID 얻기
stream = kinesis.describe_stream(StreamName=stream_name)
shard_id = stream['StreamDescription']['Shards'][0]['ShardId']

# Iterator 얻기
response = kinesis.get_shard_iterator(
    StreamName=stream_name,
    ShardId=shard_id,
    ShardIteratorType='TRIM_HORIZON'
)
shard_iterator = response['ShardIterator']

# 데이터 읽기
while True:
    out = kinesis.get_records(ShardIterator=shard_iterator, Limit=10)
    records = out['Records']
    for record in records:
        print(json.loads(record['Data']))
    shard_iterator = out['NextShardIterator']
"""

# Passes the endpoint on the command line too (CLIs older than the
# AWS_ENDPOINT_URL variable ignore it) and runs the CLI the harness chose.
CLI_PRELUDE = ('aws() { command "${RIFFLE_TEST_AWS_CLI:-aws}" --endpoint-url "$AWS_ENDPOINT_URL" '
               '"$@"; }\n')

TUTORIAL_DATA_ARG = "SGVsbG8gS2luZXNpcw=="


class SeedTutorialTest(RiffledTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clis = available_clis()

    def setUp(self):
        super().setUp()
        self.cli, self.cli_version = self.clis[0]

    def use_cli(self, path, major):
        self.cli, self.cli_version = path, major

    def expected_tutorial_bytes(self):
        # awscli v1 base64-encodes the --data argument once more, so the
        # stored record is the argument's own text; v2 sends it as given.
        if self.cli_version == 1:
            return TUTORIAL_DATA_ARG.encode()
        return b"Hello Kinesis"

    def run_cli(self, script, step, subst=None):
        for k, v in (subst or {}).items():
            script = script.replace(k, v)
        p = subprocess.run(["bash", "-c", CLI_PRELUDE + script],
                           env=self.riffled.cli_env(RIFFLE_TEST_AWS_CLI=self.cli),
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(p.returncode, 0,
                         f"{step} with {self.cli} (v{self.cli_version}) failed "
                         f"(exit {p.returncode})\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p.stdout

    def run_cli_json(self, script, step, subst=None):
        out = self.run_cli(script, step, subst)
        try:
            return json.loads(out)
        except ValueError:
            self.fail(f"{step} printed something that is not JSON: {out!r}")

    def stream_status(self):
        try:
            s = self.kinesis.describe_stream_summary(StreamName=STREAM)
            return s["StreamDescriptionSummary"]["StreamStatus"]
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def wait_gone(self):
        wait_for(lambda: self.stream_status() is None, 15, interval=0.1,
                 what="my-data-stream to be deleted")

    def create_like_tutorial(self):
        out = self.run_cli(CREATE_STREAM, "aws kinesis create-stream")
        self.assertEqual(out, "", "create-stream prints nothing on success")
        # The tutorial runs the next command right away; the stream must
        # leave CREATING quickly.
        wait_for(lambda: self.stream_status() == "ACTIVE", 5, interval=0.05,
                 what="my-data-stream ACTIVE")

    def test_cli_walk_prints_what_the_tutorial_shows(self):
        for path, major in self.clis:
            with self.subTest(cli=path, version=major):
                self.use_cli(path, major)
                self.cli_walk()

    def cli_walk(self):
        self.create_like_tutorial()

        summary = self.run_cli_json(DESCRIBE_STREAM_SUMMARY, "describe-stream-summary")
        d = summary["StreamDescriptionSummary"]
        self.assertEqual(d["StreamName"], STREAM)
        self.assertEqual(d["StreamARN"],
                         "arn:aws:kinesis:us-east-1:000000000000:stream/my-data-stream")
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertEqual(d["OpenShardCount"], 1)
        self.assertEqual(d["RetentionPeriodHours"], 24)
        self.assertEqual(d["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertEqual(d["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertNotIn("StreamId", d)

        put = self.run_cli_json(PUT_RECORD, "put-record")
        self.assertEqual(put["ShardId"], "shardId-000000000000")
        seq = put["SequenceNumber"]
        self.assertRegex(seq, r"^1\d{40}$")

        desc = self.run_cli_json(DESCRIBE_STREAM, "describe-stream")["StreamDescription"]
        self.assertEqual(desc["StreamName"], STREAM)
        self.assertEqual(desc["StreamStatus"], "ACTIVE")
        # (The CLI paginates describe-stream itself and drops HasMoreShards.)
        self.assertEqual(len(desc["Shards"]), 1)
        shard = desc["Shards"][0]
        self.assertEqual(shard["ShardId"], "shardId-000000000000")
        self.assertEqual(shard["HashKeyRange"], {
            "StartingHashKey": "0",
            "EndingHashKey": "340282366920938463463374607431768211455"})
        self.assertLess(int(shard["SequenceNumberRange"]["StartingSequenceNumber"]), int(seq))
        self.assertNotIn("EndingSequenceNumber", shard["SequenceNumberRange"])

        it = self.run_cli_json(GET_SHARD_ITERATOR, "get-shard-iterator")["ShardIterator"]
        self.assertIsInstance(it, str)
        self.assertTrue(0 < len(it) <= 512, it)

        got = self.run_cli_json(GET_RECORDS, "get-records", {"<IteratorReturnedAbove>": it})
        self.assertIn("NextShardIterator", got)
        self.assertEqual(len(got["Records"]), 1, got)
        rec = got["Records"][0]
        self.assertEqual(rec["PartitionKey"], "user-1")
        self.assertEqual(rec["SequenceNumber"], seq)
        # The CLI prints blobs base64-encoded.
        self.assertEqual(base64.b64decode(rec["Data"]), self.expected_tutorial_bytes())
        self.assertIn("ApproximateArrivalTimestamp", rec)

        out = self.run_cli(DELETE_STREAM, "delete-stream")
        self.assertEqual(out, "", "delete-stream prints nothing on success")
        self.wait_gone()

    def test_python_walk_consumer_prints_the_ten_records_in_order(self):
        self.create_like_tutorial()
        env = self.riffled.cli_env()
        producer = PRODUCER.replace("time.sleep(1)", "time.sleep(0.01)")
        self.assertNotEqual(producer, PRODUCER)
        p = subprocess.run([sys.executable, "-c", producer], env=env, capture_output=True,
                           text=True, timeout=90)
        self.assertEqual(p.returncode, 0, f"producer failed:\n{p.stderr}")
        self.assertEqual(p.stdout, "")

        lines = []
        with tempfile.TemporaryFile("w+") as out:
            proc = subprocess.Popen([sys.executable, "-u", "-c", CONSUMER], env=env,
                                    stdout=out, stderr=subprocess.STDOUT, text=True)
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and proc.poll() is None:
                    time.sleep(0.1)
                    out.seek(0)
                    lines = out.read().splitlines()
                    if len(lines) >= 10:
                        break
                exited = proc.poll() is not None
            finally:
                proc.kill()
                proc.wait()
            out.seek(0)
            everything = out.read()
        self.assertFalse(exited, "the consumer loop must keep running; it printed:\n"
                         + everything)
        self.assertGreaterEqual(len(lines), 10, "consumer output:\n" + everything)
        printed = [ast.literal_eval(line) for line in lines[:10]]
        self.assertEqual(printed, [{"event_id": i, "message": "Kinesis test"}
                                   for i in range(10)])

        out = self.run_cli(DELETE_STREAM, "delete-stream")
        self.assertEqual(out, "")
        self.wait_gone()

    def test_stored_bytes_match_the_cli_version(self):
        for path, major in self.clis:
            with self.subTest(cli=path, version=major):
                self.use_cli(path, major)
                self.create_like_tutorial()
                self.run_cli_json(PUT_RECORD, "put-record")
                it = self.kinesis.get_shard_iterator(
                    StreamName=STREAM, ShardId="shardId-000000000000",
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                recs = self.kinesis.get_records(ShardIterator=it)["Records"]
                self.assertEqual([r["Data"] for r in recs], [self.expected_tutorial_bytes()])
                self.assertEqual(self.run_cli(DELETE_STREAM, "delete-stream"), "")
                self.wait_gone()

    def test_cli_v2_raw_in_base64_out_stores_the_text(self):
        v2 = [(p, m) for p, m in self.clis if m >= 2]
        if not v2:
            self.skipTest("--cli-binary-format exists only in awscli v2, not installed here")
        self.use_cli(*v2[0])
        self.create_like_tutorial()
        put = self.run_cli_json(
            "aws kinesis put-record --stream-name my-data-stream --partition-key user-1 "
            "--cli-binary-format raw-in-base64-out --data 'Hello raw'\n", "put-record raw")
        self.assertEqual(put["ShardId"], "shardId-000000000000")
        it = self.kinesis.get_shard_iterator(StreamName=STREAM, ShardId="shardId-000000000000",
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        recs = self.kinesis.get_records(ShardIterator=it)["Records"]
        self.assertEqual([r["Data"] for r in recs], [b"Hello raw"])

    def test_recreated_stream_starts_empty(self):
        self.create_like_tutorial()
        self.run_cli_json(PUT_RECORD, "put-record")
        self.assertEqual(self.run_cli(DELETE_STREAM, "delete-stream"), "")
        self.wait_gone()
        self.create_like_tutorial()
        summary = self.run_cli_json(DESCRIBE_STREAM_SUMMARY, "describe-stream-summary")
        self.assertEqual(summary["StreamDescriptionSummary"]["OpenShardCount"], 1)
        it = self.run_cli_json(GET_SHARD_ITERATOR, "get-shard-iterator")["ShardIterator"]
        got = self.run_cli_json(GET_RECORDS, "get-records", {"<IteratorReturnedAbove>": it})
        self.assertEqual(got["Records"], [], "records of the deleted stream came back")
        self.assertIn("NextShardIterator", got)


if __name__ == "__main__":
    unittest.main()
