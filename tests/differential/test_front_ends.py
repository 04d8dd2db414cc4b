"""The two front ends of one riffled must agree.

The same scenarios run through the native gRPC API (the `riffle` CLI, whose path
comes from RIFFLE_CLI) and through the Kinesis HTTP API (boto3) against ONE
daemon: records written through one are read back through the other with the
same data, partition keys, sequence numbers, shards and arrival times; the same
partition keys route to the same shards; stream descriptions match, also after a
split, merge or scale through either of them; and the same
bad inputs fail with the same Kinesis error code (and message) on both.

Every expectation is an exact value, so that drift between the front ends fails.
"""

import base64
import datetime
import json
import os
import re
import subprocess
import unittest

import botocore.exceptions

from harness import (RiffledTestCase, executable_from_env, hash_key, initial_ranges,
                     read_all_records, shard_for, shard_id, wait_for)

CLI_TIMEOUT_S = 60
ERROR_LINE = re.compile(r"^riffle: ([A-Za-z]+): (.*)$")


def riffle_cli_path():
    return executable_from_env("RIFFLE_CLI", "/path/to/riffle")


def tail_data(line):
    """The data bytes of one `riffle --json tail` line: text, or base64 when not UTF-8."""
    if "data_base64" in line:
        assert "data" not in line, line
        return base64.b64decode(line["data_base64"], validate=True)
    return line["data"].encode("utf-8")


def arrival_ms(record):
    """A boto3 record's ApproximateArrivalTimestamp in epoch milliseconds."""
    return int(round(record["ApproximateArrivalTimestamp"].timestamp() * 1000))


# Record payloads that must survive both paths byte for byte: ASCII, UTF-8,
# invalid UTF-8 (the tail prints it as data_base64), control bytes and NUL.
PAYLOADS = [
    b"hello",
    b"caf\xc3\xa9 \xe2\x82\xac",
    b"\xff\xfe\x00binary\x80",
    b"tab\there and \"quotes\" \\ backslash",
    b"\x00",
    b"",
    b"{\"json\": [1, 2, 3]}",
    b"x" * 5000,
]


class FrontEndsTest(RiffledTestCase):
    daemon_scope = "class"
    # Both front ends answer each error once, with no retry: AWS's call rates would answer some
    # of them first (tests/kinesis_http/test_call_limits.py checks those).
    riffled_args = ("--shard-quotas=off",)

    @classmethod
    def setUpClass(cls):
        cls.cli_path = riffle_cli_path()
        super().setUpClass()

    # -- CLI helpers ------------------------------------------------------

    def cli(self, *args, stdin=b"", json_out=True):
        cmd = [self.cli_path, "--endpoint", f"127.0.0.1:{self.riffled.ports['grpc']}"]
        if json_out:
            cmd.append("--json")
        cmd += list(args)
        env = dict(os.environ)
        env.pop("RIFFLE_ENDPOINT", None)
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=CLI_TIMEOUT_S,
                              env=env)

    def cli_ok(self, *args, stdin=b""):
        """Runs the CLI with --json; fails unless it exits 0; returns the JSON lines."""
        p = self.cli(*args, stdin=stdin)
        if p.returncode != 0:
            self.fail(f"riffle {' '.join(args)} exited {p.returncode}\n"
                      f"stdout: {p.stdout!r}\nstderr: {p.stderr!r}")
        lines = []
        for raw in p.stdout.decode("utf-8").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                self.fail(f"riffle {' '.join(args)}: stdout line is not JSON: {raw!r}")
        return lines

    def cli_error(self, *args, stdin=b""):
        """Runs the CLI; expects a non-zero exit and `riffle: <Code>: <message>` on stderr."""
        p = self.cli(*args, stdin=stdin)
        self.assertNotEqual(p.returncode, 0,
                            f"riffle {' '.join(args)} succeeded: stdout {p.stdout!r}")
        lines = p.stderr.decode("utf-8", "replace").strip().splitlines()
        matches = [ERROR_LINE.match(line) for line in lines]
        matches = [m for m in matches if m]
        self.assertEqual(len(matches), 1,
                         f"riffle {' '.join(args)}: want one `riffle: <Code>: <message>` "
                         f"line on stderr, got {p.stderr!r}")
        return matches[0].group(1), matches[0].group(2)

    def boto_error(self, call, **kwargs):
        try:
            call(**kwargs)
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"].get("Message")
        self.fail(f"{call.__name__}({kwargs}) succeeded, expected an error")

    def produce(self, stream, key, payloads):
        """`riffle --json produce`; returns [(data, shard, seq)] in input order."""
        stdin = b"".join(p + b"\n" for p in payloads)
        for p in payloads:
            self.assertNotIn(b"\n", p)
        out = self.cli_ok("produce", stream, "--key", key, stdin=stdin)
        self.assertEqual([o["line"] for o in out], list(range(1, len(payloads) + 1)),
                         f"produce --json must print one line per record, in order: {out}")
        return [(data, o["shard_id"], o["sequence_number"]) for data, o in zip(payloads, out)]

    def tail(self, stream, *extra):
        return self.cli_ok("tail", stream, *extra)

    def boto_records(self, stream, shards, start="TRIM_HORIZON", **it_args):
        """{shard id: [records]} read through GetRecords."""
        return {shard_id(i): read_all_records(self.kinesis, stream, shard_id(i), start, **it_args)
                for i in range(shards)}

    # -- records ----------------------------------------------------------

    def test_cli_produced_records_read_back_through_get_records(self):
        stream = self.unique_name()
        self.assertEqual(self.cli_ok("stream", "create", stream, "--shards", "4"),
                         [{"stream_name": stream, "created": True}])
        self.wait_active(stream)
        ranges = initial_ranges(4)
        keys = ["alpha", "beta", "gamma", "delta", "\u00fcnicode-\u20ac", "k" * 256]
        produced = {}  # key -> [(data, shard, seq)]
        for key in keys:
            payloads = [p + key.encode() for p in PAYLOADS]
            produced[key] = self.produce(stream, key, payloads)
            want_shard = shard_id(shard_for(hash_key(key), ranges))
            self.assertEqual({shard for _, shard, _ in produced[key]}, {want_shard},
                             f"key {key!r} must route to {want_shard}")

        got = self.boto_records(stream, 4)
        expected = {shard_id(i): [] for i in range(4)}
        for key in keys:
            for data, shard, seq in produced[key]:
                expected[shard].append((seq, key, data))
        for shard in expected:
            expected[shard].sort(key=lambda t: int(t[0]))
        actual = {shard: [(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in recs]
                  for shard, recs in got.items()}
        self.assertEqual(actual, expected)
        # Within a shard, GetRecords returns records in the order produce acknowledged them.
        for key in keys:
            seqs = [int(seq) for _, _, seq in produced[key]]
            self.assertEqual(seqs, sorted(seqs), f"sequence numbers of {key!r} must grow")
            self.assertEqual(len(set(seqs)), len(seqs))

    def test_boto3_put_records_read_back_through_cli_tail(self):
        stream = self.create_stream(shards=3)
        ranges = initial_ranges(3)
        written = []  # (shard, seq, key, data)
        for i, data in enumerate(PAYLOADS):
            key = f"single-{i}"
            out = self.kinesis.put_record(StreamName=stream, PartitionKey=key, Data=data)
            self.assertEqual(out["ShardId"], shard_id(shard_for(hash_key(key), ranges)))
            written.append((out["ShardId"], out["SequenceNumber"], key, data))
        batch = [{"PartitionKey": f"batch-{i}", "Data": data} for i, data in enumerate(PAYLOADS)]
        out = self.kinesis.put_records(StreamName=stream, Records=batch)
        self.assertEqual(out["FailedRecordCount"], 0, out)
        for entry, result in zip(batch, out["Records"]):
            self.assertEqual(result["ShardId"],
                             shard_id(shard_for(hash_key(entry["PartitionKey"]), ranges)))
            written.append((result["ShardId"], result["SequenceNumber"], entry["PartitionKey"],
                            entry["Data"]))

        lines = self.tail(stream, "--from", "trim-horizon")
        got = [(line["shard_id"], line["sequence_number"], line["partition_key"], tail_data(line))
               for line in lines]
        # The tail prints shard after shard; within a shard in sequence order.
        expected = sorted(written, key=lambda w: (w[0], int(w[1])))
        self.assertEqual(sorted(got, key=lambda w: (w[0], int(w[1]))), expected)
        for shard in {w[0] for w in written}:
            seqs = [int(g[1]) for g in got if g[0] == shard]
            self.assertEqual(seqs, sorted(seqs), f"tail order within {shard}")
        # Binary payloads come out as data_base64, text ones as data.
        for line in lines:
            data = tail_data(line)
            try:
                data.decode("utf-8")
                self.assertIn("data", line, line)
            except UnicodeDecodeError:
                self.assertIn("data_base64", line, line)

        # Arrival times agree to the millisecond between GetRecords and the tail.
        boto = self.boto_records(stream, 3)
        boto_arrival = {r["SequenceNumber"]: arrival_ms(r) for recs in boto.values() for r in recs}
        tail_arrival = {line["sequence_number"]: line["arrival_time_ms"] for line in lines}
        self.assertEqual(tail_arrival, boto_arrival)

    def test_tail_positions_match_shard_iterator_types(self):
        stream = self.create_stream(shards=2)
        key = "position-key"
        shard = shard_id(shard_for(hash_key(key), initial_ranges(2)))
        seqs = []
        for i in range(10):
            out = self.kinesis.put_record(StreamName=stream, PartitionKey=key,
                                          Data=f"rec-{i}".encode())
            seqs.append(out["SequenceNumber"])
        middle = seqs[4]

        lines = self.tail(stream, "--from", f"seq:{middle}")
        boto = read_all_records(self.kinesis, stream, shard, "AT_SEQUENCE_NUMBER",
                                StartingSequenceNumber=middle)
        self.assertEqual([(ln["shard_id"], ln["sequence_number"], tail_data(ln)) for ln in lines],
                         [(shard, r["SequenceNumber"], r["Data"]) for r in boto])
        self.assertEqual([ln["sequence_number"] for ln in lines], seqs[4:])

        lines = self.tail(stream, "--from", "trim-horizon", "--shard", shard)
        self.assertEqual([ln["sequence_number"] for ln in lines], seqs)

        # LATEST on a stream with no new records prints nothing through either front end.
        self.assertEqual(self.tail(stream, "--from", "latest"), [])
        self.assertEqual(read_all_records(self.kinesis, stream, shard, "LATEST"), [])

    def test_same_partition_keys_route_to_same_shards(self):
        shards = 5
        via_cli = self.unique_name()
        via_boto = self.create_stream(shards=shards)
        self.cli_ok("stream", "create", via_cli, "--shards", str(shards))
        self.wait_active(via_cli)
        ranges = initial_ranges(shards)
        keys = [f"user-{i}" for i in range(25)] + ["", "a", "Z" * 256, "\u65e5\u672c"]
        keys = [k for k in keys if k]  # an empty partition key is invalid on both
        seen = set()
        for key in keys:
            [(_, cli_shard, cli_seq)] = self.produce(via_cli, key, [b"payload"])
            out = self.kinesis.put_record(StreamName=via_boto, PartitionKey=key, Data=b"payload")
            want = shard_id(shard_for(hash_key(key), ranges))
            self.assertEqual((cli_shard, out["ShardId"]), (want, want), f"key {key!r}")
            seen.add(want)
            # The n-th record of a shard gets the same sequence number on both streams.
            self.assertEqual(cli_seq, out["SequenceNumber"], f"key {key!r}")
        self.assertGreaterEqual(len(seen), 4, "the keys should spread over the shards")

        # Records of the other front end's stream, read the other way round, match too.
        cli_side = {(ln["shard_id"], ln["sequence_number"], ln["partition_key"])
                    for ln in self.tail(via_boto)}
        boto_side = {(s, r["SequenceNumber"], r["PartitionKey"])
                     for s, recs in self.boto_records(via_cli, shards).items() for r in recs}
        self.assertEqual(cli_side, boto_side)
        self.assertEqual(len(cli_side), len(keys))

    # -- streams ----------------------------------------------------------

    def assertDescriptionsAgree(self, stream):
        [cli] = self.cli_ok("stream", "describe", stream)
        desc = self.kinesis.describe_stream(StreamName=stream)["StreamDescription"]
        self.assertFalse(desc["HasMoreShards"])
        self.assertEqual(
            (cli["stream_name"], cli["stream_arn"], cli["stream_status"], cli["stream_mode"],
             cli["retention_period_hours"], cli["encryption_type"]),
            (desc["StreamName"], desc["StreamARN"], desc["StreamStatus"],
             desc["StreamModeDetails"]["StreamMode"], desc["RetentionPeriodHours"],
             desc["EncryptionType"]))
        created_ms = int(round(desc["StreamCreationTimestamp"].timestamp() * 1000))
        cli_created = datetime.datetime.strptime(cli["created"], "%Y-%m-%dT%H:%M:%S.%fZ")
        cli_created = cli_created.replace(tzinfo=datetime.timezone.utc)
        self.assertEqual(int(round(cli_created.timestamp() * 1000)), created_ms,
                         f"created: CLI {cli['created']!r}, "
                         f"DescribeStream {desc['StreamCreationTimestamp']!r}")

        def from_boto(s):
            d = {"shard_id": s["ShardId"],
                 "starting_hash_key": s["HashKeyRange"]["StartingHashKey"],
                 "ending_hash_key": s["HashKeyRange"]["EndingHashKey"],
                 "starting_sequence_number":
                     s["SequenceNumberRange"]["StartingSequenceNumber"]}
            if "EndingSequenceNumber" in s["SequenceNumberRange"]:
                d["ending_sequence_number"] = s["SequenceNumberRange"]["EndingSequenceNumber"]
            if "ParentShardId" in s:
                d["parent_shard_id"] = s["ParentShardId"]
            if "AdjacentParentShardId" in s:
                d["adjacent_parent_shard_id"] = s["AdjacentParentShardId"]
            return d

        self.assertEqual(cli["shards"], [from_boto(s) for s in desc["Shards"]])
        open_shards = [s for s in desc["Shards"]
                       if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
        self.assertEqual(cli["open_shard_count"], len(open_shards))
        return cli, desc

    def test_describe_agrees(self):
        via_cli = self.unique_name()
        self.cli_ok("stream", "create", via_cli, "--shards", "3")
        self.wait_active(via_cli)
        cli, desc = self.assertDescriptionsAgree(via_cli)
        ranges = initial_ranges(3)
        self.assertEqual([(int(s["starting_hash_key"]), int(s["ending_hash_key"]))
                          for s in cli["shards"]], ranges)
        self.assertEqual([s["shard_id"] for s in cli["shards"]],
                         [shard_id(i) for i in range(3)])
        self.assertEqual(cli["stream_mode"], "PROVISIONED")

        via_boto = self.create_stream(on_demand=True)
        cli, _ = self.assertDescriptionsAgree(via_boto)
        self.assertEqual(cli["stream_mode"], "ON_DEMAND")

        on_demand_cli = self.unique_name()
        self.cli_ok("stream", "create", on_demand_cli, "--on-demand")
        self.wait_active(on_demand_cli)
        cli, _ = self.assertDescriptionsAgree(on_demand_cli)
        self.assertEqual(cli["stream_mode"], "ON_DEMAND")

    def test_stream_list_agrees(self):
        names = [self.create_stream(), self.unique_name()]
        self.cli_ok("stream", "create", names[1], "--shards", "1")
        self.wait_active(names[1])
        cli = self.cli_ok("stream", "list")
        boto = []
        kw = {}
        while True:
            out = self.kinesis.list_streams(**kw)
            boto.extend(out["StreamSummaries"])
            if not out.get("HasMoreStreams"):
                break
            kw = {"NextToken": out["NextToken"]}
        self.assertEqual([c["stream_name"] for c in cli], [b["StreamName"] for b in boto])
        self.assertEqual([(c["stream_arn"], c["stream_status"], c["stream_mode"]) for c in cli],
                         [(b["StreamARN"], b["StreamStatus"],
                           b["StreamModeDetails"]["StreamMode"]) for b in boto])
        for name in names:
            self.assertIn(name, [c["stream_name"] for c in cli])

    def test_delete_through_cli_is_seen_by_boto3(self):
        stream = self.create_stream()
        self.assertEqual(self.cli_ok("stream", "delete", stream),
                         [{"stream_name": stream, "deleted": True}])

        def gone():
            try:
                self.kinesis.describe_stream_summary(StreamName=stream)
            except self.kinesis.exceptions.ResourceNotFoundException:
                return True
            return False
        wait_for(gone, 10, interval=0.05, what=f"stream {stream} deleted")
        code, _ = self.cli_error("stream", "describe", stream)
        self.assertEqual(code, "ResourceNotFoundException")

    # -- resharding -------------------------------------------------------

    def assertLineage(self, stream, closed, children):
        """Both front ends show exactly `closed` closed, and `children` as {id: (parents, range)}."""
        cli, desc = self.assertDescriptionsAgree(stream)
        cli_shards = {s["shard_id"]: s for s in cli["shards"]}
        boto_shards = {s["ShardId"]: s for s in desc["Shards"]}
        for shard in closed:
            self.assertIn("ending_sequence_number", cli_shards[shard])
            self.assertIn("EndingSequenceNumber", boto_shards[shard]["SequenceNumberRange"])
        for shard, (parents, (start, end)) in children.items():
            c, b = cli_shards[shard], boto_shards[shard]
            self.assertEqual([c.get("parent_shard_id"), c.get("adjacent_parent_shard_id")],
                             (parents + [None])[:2], shard)
            self.assertEqual([b.get("ParentShardId"), b.get("AdjacentParentShardId")],
                             (parents + [None])[:2], shard)
            self.assertEqual((int(c["starting_hash_key"]), int(c["ending_hash_key"])),
                             (start, end), shard)
            self.assertNotIn("ending_sequence_number", c)
        for shard, c in cli_shards.items():
            if shard not in closed:
                self.assertNotIn("ending_sequence_number", c, f"{shard} should be open")
        return cli, desc

    def test_split_through_cli_agrees_with_boto3(self):
        stream = self.create_stream(shards=1)
        before = self.produce(stream, "k", [b"b0", b"b1"])
        middle = 2 ** 127
        [split] = self.cli_ok("stream", "split", stream, "--shard", shard_id(0),
                              "--hash-key", str(middle))
        self.assertEqual(split, {"stream_name": stream, "shard_to_split": shard_id(0),
                                 "new_starting_hash_key": str(middle),
                                 "child_shards": [shard_id(1), shard_id(2)]})
        self.assertLineage(stream, [shard_id(0)], {
            shard_id(1): ([shard_id(0)], (0, middle - 1)),
            shard_id(2): ([shard_id(0)], (middle, 2 ** 128 - 1)),
        })
        after = self.produce(stream, "k", [b"a0", b"a1"])
        halves = [(0, middle - 1), (middle, 2 ** 128 - 1)]
        self.assertEqual({sh for _, sh, _ in after},
                         {shard_id(1 + shard_for(hash_key("k"), halves))})

        # boto3 reads the parent to its end: no next iterator, the children the CLI printed.
        it = self.kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out = self.kinesis.get_records(ShardIterator=it)
        self.assertEqual([r["Data"] for r in out["Records"]], [b"b0", b"b1"])
        self.assertIsNone(out.get("NextShardIterator"))
        self.assertEqual([c["ShardId"] for c in out["ChildShards"]], split["child_shards"])
        self.assertEqual([c["ParentShards"] for c in out["ChildShards"]],
                         [[shard_id(0)], [shard_id(0)]])

        # The CLI's tail reads the parent before the child.
        tailed = [(t["shard_id"], tail_data(t), t["sequence_number"]) for t in self.tail(stream)]
        self.assertEqual(tailed, [(sh, d, seq) for d, sh, seq in before + after])

    def test_split_and_merge_through_boto3_agree_with_cli(self):
        stream = self.create_stream(shards=2)
        quarter = 2 ** 126
        self.kinesis.split_shard(StreamName=stream, ShardToSplit=shard_id(1),
                                 NewStartingHashKey=str(3 * quarter))
        self.assertLineage(stream, [shard_id(1)], {
            shard_id(2): ([shard_id(1)], (2 * quarter, 3 * quarter - 1)),
            shard_id(3): ([shard_id(1)], (3 * quarter, 2 ** 128 - 1)),
        })
        self.kinesis.merge_shards(StreamName=stream, ShardToMerge=shard_id(2),
                                  AdjacentShardToMerge=shard_id(3))
        self.assertLineage(stream, [shard_id(1), shard_id(2), shard_id(3)], {
            shard_id(4): ([shard_id(2), shard_id(3)], (2 * quarter, 2 ** 128 - 1)),
        })
        out = self.kinesis.update_shard_count(StreamName=stream, TargetShardCount=4,
                                              ScalingType="UNIFORM_SCALING")
        self.assertEqual((out["CurrentShardCount"], out["TargetShardCount"]), (2, 4))
        cli, _ = self.assertDescriptionsAgree(stream)
        self.assertEqual(cli["open_shard_count"], 4)
        [scaled] = self.cli_ok("stream", "scale", stream, "--shards", "2")
        self.assertEqual((scaled["current_shard_count"], scaled["target_shard_count"]), (4, 2))
        cli, _ = self.assertDescriptionsAgree(stream)
        self.assertEqual(cli["open_shard_count"], 2)

    # -- errors -----------------------------------------------------------

    def assertSameError(self, code, cli_args, boto_call, stdin=b"", same_message=True,
                        **boto_kwargs):
        cli_code, cli_message = self.cli_error(*cli_args, stdin=stdin)
        boto_code, boto_message = self.boto_error(boto_call, **boto_kwargs)
        self.assertEqual((cli_code, boto_code), (code, code),
                         f"riffle {' '.join(cli_args)}: {cli_message!r}; boto3: {boto_message!r}")
        if same_message:
            self.assertEqual(cli_message, boto_message)
        return cli_message, boto_message

    def test_unknown_stream_errors_agree(self):
        missing = self.unique_name("missing")
        k = self.kinesis1
        self.assertSameError("ResourceNotFoundException", ["stream", "describe", missing],
                             k.describe_stream, StreamName=missing)
        self.assertSameError("ResourceNotFoundException", ["stream", "delete", missing],
                             k.delete_stream, StreamName=missing)
        self.assertSameError("ResourceNotFoundException", ["produce", missing, "--key", "k"],
                             k.put_records, stdin=b"data\n", StreamName=missing,
                             Records=[{"PartitionKey": "k", "Data": b"data"}])
        self.assertSameError("ResourceNotFoundException", ["tail", missing],
                             k.list_shards, StreamName=missing)
        self.assertSameError("ResourceNotFoundException",
                             ["tail", missing, "--shard", shard_id(0)],
                             k.get_shard_iterator, StreamName=missing, ShardId=shard_id(0),
                             ShardIteratorType="TRIM_HORIZON")

    def test_bad_stream_name_errors_agree(self):
        k = self.kinesis1
        for bad in ["bad name!", "a/b", "x" * 129]:
            with self.subTest(name=bad):
                self.assertSameError("ValidationException", ["stream", "create", bad,
                                                             "--shards", "1"],
                                     k.create_stream, StreamName=bad, ShardCount=1)
                self.assertSameError("ValidationException", ["stream", "describe", bad],
                                     k.describe_stream, StreamName=bad)
                self.assertSameError("ValidationException", ["produce", bad, "--key", "k"],
                                     k.put_records, stdin=b"data\n", StreamName=bad,
                                     Records=[{"PartitionKey": "k", "Data": b"data"}])

    def test_long_partition_key_errors_agree(self):
        stream = self.create_stream(shards=2)
        key = "p" * 257
        k = self.kinesis1
        cli_message, boto_message = self.assertSameError(
            "ValidationException", ["produce", stream, "--key", key], k.put_records,
            stdin=b"data\n", StreamName=stream, Records=[{"PartitionKey": key, "Data": b"data"}])
        self.assertIn("256", cli_message)
        code, _ = self.boto_error(k.put_record, StreamName=stream, PartitionKey=key, Data=b"d")
        self.assertEqual(code, "ValidationException")
        # Nothing was written by either refused call.
        self.assertEqual(self.tail(stream), [])
        self.assertEqual(self.boto_records(stream, 2), {shard_id(0): [], shard_id(1): []})

    def test_reshard_errors_agree(self):
        stream = self.create_stream(shards=3)
        k = self.kinesis1
        missing = shard_id(99)
        self.assertSameError("ResourceNotFoundException",
                             ["stream", "split", stream, "--shard", missing, "--hash-key", "5"],
                             k.split_shard, StreamName=stream, ShardToSplit=missing,
                             NewStartingHashKey="5")
        self.assertSameError("InvalidArgumentException",
                             ["stream", "split", stream, "--shard", shard_id(0),
                              "--hash-key", "1"],
                             k.split_shard, StreamName=stream, ShardToSplit=shard_id(0),
                             NewStartingHashKey="1")
        self.assertSameError("InvalidArgumentException",
                             ["stream", "merge", stream, "--shard", shard_id(0),
                              "--adjacent", shard_id(2)],
                             k.merge_shards, StreamName=stream, ShardToMerge=shard_id(0),
                             AdjacentShardToMerge=shard_id(2))
        self.assertSameError("LimitExceededException",
                             ["stream", "scale", stream, "--shards", "7"],
                             k.update_shard_count, StreamName=stream, TargetShardCount=7,
                             ScalingType="UNIFORM_SCALING")
        on_demand = self.create_stream(on_demand=True)
        self.assertSameError("ValidationException",
                             ["stream", "split", on_demand, "--shard", shard_id(0),
                              "--hash-key", str(2 ** 127)],
                             k.split_shard, StreamName=on_demand, ShardToSplit=shard_id(0),
                             NewStartingHashKey=str(2 ** 127))
        self.assertSameError("ValidationException",
                             ["stream", "scale", on_demand, "--shards", "2"],
                             k.update_shard_count, StreamName=on_demand, TargetShardCount=2,
                             ScalingType="UNIFORM_SCALING")
        # Nothing changed through either front end.
        self.assertLineage(stream, [], {})

    def test_duplicate_stream_errors_agree(self):
        stream = self.create_stream(shards=1)
        self.assertSameError("ResourceInUseException", ["stream", "create", stream, "--shards",
                                                        "1"],
                             self.kinesis1.create_stream, StreamName=stream, ShardCount=1)


if __name__ == "__main__":
    unittest.main()
