"""Every Kinesis operation riffled serves, driven by boto3 as users call them.

Covers stream life cycle, listing and pagination (plain calls and the boto3
paginators), writes and reads with every iterator type, hash-key routing,
ordering, durability across graceful and kill -9 restarts, iterator expiry,
per-shard quotas, retention, tags, enhanced monitoring, limits, stream mode,
encryption, StreamARN addressing, and accounts taken from the access key.
"""

import datetime
import json
import re
import time
import unittest

import botocore.exceptions

from harness import (ACCOUNT, MAX_HASH, REGION, RiffledTestCase, hash_key, initial_ranges,
                     read_all_records, shard_for, shard_id, stream_arn, wait_for)

ALL_METRICS = {"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
               "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
               "IteratorAgeMilliseconds"}


def seq_fields(seq):
    """Splits a 41-digit Riffle sequence number into (shard ordinal, offset+1)."""
    assert re.fullmatch(r"1\d{40}", seq), seq
    return int(seq[1:21]), int(seq[21:])


class StreamLifecycleTest(RiffledTestCase):
    daemon_scope = "class"

    def test_create_stream_with_shard_count_describes_equal_hash_ranges(self):
        name = self.unique_name()
        out = self.kinesis.create_stream(StreamName=name, ShardCount=3)
        self.assertEqual(set(out) - {"ResponseMetadata"}, set())
        self.wait_active(name)
        desc = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(desc["StreamName"], name)
        self.assertEqual(desc["StreamARN"], stream_arn(name))
        self.assertEqual(desc["StreamStatus"], "ACTIVE")
        self.assertEqual(desc["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertEqual(desc["RetentionPeriodHours"], 24)
        self.assertFalse(desc["HasMoreShards"])
        self.assertEqual(desc["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertIn(desc.get("EncryptionType", "NONE"), ("NONE",))
        self.assertIsInstance(desc["StreamCreationTimestamp"], datetime.datetime)
        self.assertLess(abs((self.now() - desc["StreamCreationTimestamp"]).total_seconds()), 60)
        # The values AWS publishes for a 3-shard stream.
        self.assertEqual([(s["ShardId"], s["HashKeyRange"]["StartingHashKey"],
                           s["HashKeyRange"]["EndingHashKey"]) for s in desc["Shards"]], [
            ("shardId-000000000000", "0", "113427455640312821154458202477256070484"),
            ("shardId-000000000001", "113427455640312821154458202477256070485",
             "226854911280625642308916404954512140969"),
            ("shardId-000000000002", "226854911280625642308916404954512140970",
             "340282366920938463463374607431768211455"),
        ])
        for i, s in enumerate(desc["Shards"]):
            self.assertNotIn("ParentShardId", s)
            rng = s["SequenceNumberRange"]
            self.assertNotIn("EndingSequenceNumber", rng)
            start = rng["StartingSequenceNumber"]
            self.assertEqual(seq_fields(start), (i, 0), start)

    def test_four_shard_stream_starts_where_the_reference_says(self):
        name = self.create_stream(shards=4)
        shards = self.kinesis.list_shards(StreamName=name)["Shards"]
        self.assertEqual([int(s["HashKeyRange"]["StartingHashKey"]) for s in shards],
                         [0, 85070591730234615865843651857942052864,
                          170141183460469231731687303715884105728,
                          255211775190703847597530955573826158592])
        self.assertEqual([(int(s["HashKeyRange"]["StartingHashKey"]),
                           int(s["HashKeyRange"]["EndingHashKey"])) for s in shards],
                         initial_ranges(4))

    def test_create_on_demand_stream_without_shard_count(self):
        name = self.unique_name()
        self.kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.wait_active(name)
        summary = self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})
        n = summary["OpenShardCount"]
        self.assertGreaterEqual(n, 1)
        shards = self.kinesis.list_shards(StreamName=name)["Shards"]
        self.assertEqual(len(shards), n)
        self.assertEqual([(int(s["HashKeyRange"]["StartingHashKey"]),
                           int(s["HashKeyRange"]["EndingHashKey"])) for s in shards],
                         initial_ranges(n))

    def test_create_stream_with_tags(self):
        name = self.create_stream(Tags={"team": "data", "env": "test"})
        tags = self.kinesis.list_tags_for_stream(StreamName=name)
        self.assertEqual(tags["Tags"], [{"Key": "env", "Value": "test"},
                                        {"Key": "team", "Value": "data"}])
        self.assertFalse(tags["HasMoreTags"])

    def test_describe_stream_summary_fields(self):
        name = self.create_stream(shards=2)
        s = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamName"], name)
        self.assertEqual(s["StreamARN"], stream_arn(name))
        self.assertEqual(s["StreamStatus"], "ACTIVE")
        self.assertEqual(s["OpenShardCount"], 2)
        self.assertEqual(s["RetentionPeriodHours"], 24)
        self.assertEqual(s["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertEqual(s["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertEqual(s.get("ConsumerCount", 0), 0)
        self.assertNotIn("StreamId", s)

    def test_delete_stream_makes_it_unknown(self):
        name = self.create_stream()
        out = self.kinesis.delete_stream(StreamName=name)
        self.assertEqual(set(out) - {"ResponseMetadata"}, set())

        def gone():
            try:
                self.kinesis.describe_stream_summary(StreamName=name)
                return False
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"] == "ResourceNotFoundException"
        wait_for(gone, 15, interval=0.05, what="stream deleted")
        self.assertNotIn(name, self.kinesis.list_streams(Limit=10000)["StreamNames"])
        self.assertClientError("ResourceNotFoundException", self.kinesis1.put_record,
                               StreamName=name, Data=b"x", PartitionKey="k",
                               message=f"Stream {name} under account {ACCOUNT} not found.")

    def test_describe_stream_pages_with_limit_and_exclusive_start(self):
        name = self.create_stream(shards=5)
        page = self.kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in page["Shards"]], [shard_id(0), shard_id(1)])
        self.assertTrue(page["HasMoreShards"])
        page = self.kinesis.describe_stream(StreamName=name, Limit=2,
                                            ExclusiveStartShardId=shard_id(1))[
            "StreamDescription"]
        self.assertEqual([s["ShardId"] for s in page["Shards"]], [shard_id(2), shard_id(3)])
        self.assertTrue(page["HasMoreShards"])
        page = self.kinesis.describe_stream(StreamName=name, Limit=2,
                                            ExclusiveStartShardId=shard_id(3))[
            "StreamDescription"]
        self.assertEqual([s["ShardId"] for s in page["Shards"]], [shard_id(4)])
        self.assertFalse(page["HasMoreShards"])
        page = self.kinesis.describe_stream(StreamName=name,
                                            ExclusiveStartShardId=shard_id(4))[
            "StreamDescription"]
        self.assertEqual(page["Shards"], [])
        self.assertFalse(page["HasMoreShards"])

    def test_describe_stream_paginator_collects_every_shard(self):
        name = self.create_stream(shards=5)
        pages = list(self.kinesis.get_paginator("describe_stream").paginate(
            StreamName=name, PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 3)
        ids = [s["ShardId"] for p in pages for s in p["StreamDescription"]["Shards"]]
        self.assertEqual(ids, [shard_id(i) for i in range(5)])

    def test_describe_stream_caps_a_page_at_100_shards(self):
        name = self.create_stream(shards=101)
        page = self.kinesis.describe_stream(StreamName=name, Limit=10000)["StreamDescription"]
        self.assertEqual(len(page["Shards"]), 100)
        self.assertTrue(page["HasMoreShards"])

    def test_list_streams_pages(self):
        prefix = self.unique_name("ls")
        names = [f"{prefix}-{c}" for c in "abcde"]
        for n in reversed(names):
            self.kinesis.create_stream(StreamName=n, ShardCount=1)
        for n in names:
            self.wait_active(n)
        everything = self.kinesis.list_streams(Limit=10000)
        self.assertFalse(everything["HasMoreStreams"])
        self.assertEqual(everything["StreamNames"], sorted(everything["StreamNames"]))
        self.assertLessEqual(set(names), set(everything["StreamNames"]))
        # Start right before our streams, so the pages below hold only ours.
        before = prefix + "-"
        page = self.kinesis.list_streams(Limit=2, ExclusiveStartStreamName=before)
        self.assertEqual(page["StreamNames"], names[:2])
        self.assertTrue(page["HasMoreStreams"])
        self.assertIn("NextToken", page)
        self.assertEqual([s["StreamName"] for s in page["StreamSummaries"]], names[:2])
        for s in page["StreamSummaries"]:
            self.assertEqual(s["StreamARN"], stream_arn(s["StreamName"]))
            self.assertEqual(s["StreamStatus"], "ACTIVE")
            self.assertEqual(s["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
            self.assertIsInstance(s["StreamCreationTimestamp"], datetime.datetime)
        nxt = self.kinesis.list_streams(NextToken=page["NextToken"], Limit=2)
        self.assertEqual(nxt["StreamNames"], names[2:4])
        page = self.kinesis.list_streams(Limit=2, ExclusiveStartStreamName=names[1])
        self.assertEqual(page["StreamNames"], names[2:4])

    def test_list_streams_paginator_yields_each_name_once(self):
        prefix = self.unique_name("lp")
        names = [f"{prefix}-{i}" for i in range(5)]
        for n in names:
            self.kinesis.create_stream(StreamName=n, ShardCount=1)
        pages = list(self.kinesis.get_paginator("list_streams").paginate(
            PaginationConfig={"PageSize": 2}))
        self.assertGreaterEqual(len(pages), 3)
        seen = [n for p in pages for n in p["StreamNames"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(seen, sorted(seen))
        self.assertLessEqual(set(names), set(seen))
        self.assertFalse(pages[-1]["HasMoreStreams"])

    def test_list_shards_pages_with_next_token(self):
        name = self.create_stream(shards=5)
        first = self.kinesis.list_shards(StreamName=name, MaxResults=2)
        self.assertEqual([s["ShardId"] for s in first["Shards"]], [shard_id(0), shard_id(1)])
        self.assertIn("NextToken", first)
        second = self.kinesis.list_shards(NextToken=first["NextToken"], MaxResults=2)
        self.assertEqual([s["ShardId"] for s in second["Shards"]], [shard_id(2), shard_id(3)])
        third = self.kinesis.list_shards(NextToken=second["NextToken"], MaxResults=2)
        self.assertEqual([s["ShardId"] for s in third["Shards"]], [shard_id(4)])
        self.assertNotIn("NextToken", third)
        whole = self.kinesis.list_shards(StreamName=name)
        self.assertEqual(len(whole["Shards"]), 5)
        self.assertNotIn("NextToken", whole)

    def test_list_shards_paginator(self):
        name = self.create_stream(shards=5)
        pages = list(self.kinesis.get_paginator("list_shards").paginate(
            StreamName=name, PaginationConfig={"PageSize": 5}))
        self.assertEqual([s["ShardId"] for p in pages for s in p["Shards"]],
                         [shard_id(i) for i in range(5)])

    def test_list_shards_filters(self):
        name = self.create_stream(shards=4)
        latest = self.kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})
        self.assertEqual([s["ShardId"] for s in latest["Shards"]],
                         [shard_id(i) for i in range(4)])
        after = self.kinesis.list_shards(StreamName=name, ExclusiveStartShardId=shard_id(1))
        self.assertEqual([s["ShardId"] for s in after["Shards"]], [shard_id(2), shard_id(3)])
        after = self.kinesis.list_shards(
            StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": shard_id(2)})
        self.assertEqual([s["ShardId"] for s in after["Shards"]], [shard_id(3)])
        horizon = self.kinesis.list_shards(StreamName=name,
                                           ShardFilter={"Type": "FROM_TRIM_HORIZON"})
        self.assertEqual(len(horizon["Shards"]), 4)

    def test_list_shards_filters_after_split_and_merge(self):
        """Each ShardFilter type on a stream whose shards closed at known times: a closed
        shard's ending time decides the timestamp filters, as the API reference says."""
        name = self.create_stream(shards=2)

        def ids(**kw):
            # One shard a page: each next page must keep the first page's filter.
            page = self.kinesis.list_shards(StreamName=name, MaxResults=1, **kw)
            found = [s["ShardId"] for s in page["Shards"]]
            while "NextToken" in page:
                page = self.kinesis.list_shards(NextToken=page["NextToken"], MaxResults=1)
                found += [s["ShardId"] for s in page["Shards"]]
            return found

        def instant():
            # The SDKs send whole seconds: the next whole second, once it has passed, lies
            # after every event so far and before every later one.
            moment = int(time.time()) + 1
            time.sleep(moment + 0.05 - time.time())
            return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc)

        before_split = instant()
        shard0 = self.kinesis.list_shards(StreamName=name)["Shards"][0]
        middle = (int(shard0["HashKeyRange"]["StartingHashKey"])
                  + int(shard0["HashKeyRange"]["EndingHashKey"])) // 2
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0),
                                 NewStartingHashKey=str(middle))
        self.wait_active(name)
        between = instant()
        self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(2),
                                  AdjacentShardToMerge=shard_id(3))
        self.wait_active(name)
        after_merge = instant()
        everything = [shard_id(i) for i in range(5)]
        self.assertEqual(ids(), everything)
        self.assertEqual(ids(ShardFilter={"Type": "AT_LATEST"}), [shard_id(1), shard_id(4)])
        self.assertEqual(ids(ShardFilter={"Type": "FROM_TRIM_HORIZON"}), everything)
        self.assertEqual(ids(ShardFilter={"Type": "AT_TRIM_HORIZON"}),
                         [shard_id(0), shard_id(1)])
        self.assertEqual(ids(ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": shard_id(2)}),
                         [shard_id(3), shard_id(4)])
        at = lambda moment: ids(ShardFilter={"Type": "AT_TIMESTAMP", "Timestamp": moment})
        self.assertEqual(at(before_split), [shard_id(0), shard_id(1)])
        self.assertEqual(at(between), [shard_id(1), shard_id(2), shard_id(3)])
        self.assertEqual(at(after_merge), [shard_id(1), shard_id(4)])
        since = lambda moment: ids(ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": moment})
        self.assertEqual(since(before_split), everything)
        self.assertEqual(since(between), [shard_id(1), shard_id(2), shard_id(3), shard_id(4)])
        self.assertEqual(since(after_merge), [shard_id(1), shard_id(4)])
        # A time before the stream existed reads from its trim horizon.
        long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        self.assertEqual(since(long_ago), everything)
        self.assertEqual(at(long_ago), [shard_id(0), shard_id(1)])
        self.assertClientError(
            "InvalidArgumentException", self.kinesis1.list_shards, StreamName=name,
            ShardFilter={"Type": "AT_TIMESTAMP"},
            message="Timestamp must be provided for the AT_TIMESTAMP ShardFilter type.")
        # A closed shard cannot be resharded again.
        self.assertClientError(
            "ResourceInUseException", self.kinesis1.split_shard, StreamName=name,
            ShardToSplit=shard_id(0), NewStartingHashKey=str(middle // 2),
            message=f"Shard {shard_id(0)} in stream {name} under account 000000000000 has "
                    "already been merged or split, and thus is not eligible for merging or "
                    "splitting.")

    def test_list_shards_rejects_next_token_with_stream_name(self):
        name = self.create_stream(shards=3)
        token = self.kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]
        self.assertClientError(
            "InvalidArgumentException", self.kinesis1.list_shards, StreamName=name,
            NextToken=token,
            message="NextToken and StreamName cannot be provided together.")

    def test_list_shards_next_token_excludes_every_other_selector(self):
        name = self.create_stream(shards=3)
        token = self.kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]
        k = self.kinesis1
        self.assertClientError(
            "InvalidArgumentException", k.list_shards, NextToken=token,
            StreamARN=stream_arn(name),
            message="NextToken and StreamARN cannot be provided together.")
        self.assertClientError(
            "InvalidArgumentException", k.list_shards, NextToken=token,
            ExclusiveStartShardId=shard_id(0),
            message="NextToken and ExclusiveStartShardId cannot be provided together.")
        self.assertClientError(
            "InvalidArgumentException", k.list_shards, NextToken=token,
            ShardFilter={"Type": "AT_LATEST"},
            message="NextToken and ShardFilter cannot be provided together.")
        # The token alone still works afterwards.
        self.assertEqual([s["ShardId"] for s in k.list_shards(NextToken=token)["Shards"]],
                         [shard_id(1), shard_id(2)])

    def test_list_streams_next_token_wins_over_exclusive_start(self):
        prefix = self.unique_name("tw")
        names = [f"{prefix}-{c}" for c in "abcd"]
        for n in names:
            self.kinesis.create_stream(StreamName=n, ShardCount=1)
        page = self.kinesis.list_streams(Limit=1, ExclusiveStartStreamName=prefix + "-")
        self.assertEqual(page["StreamNames"], names[:1])
        nxt = self.kinesis.list_streams(Limit=1, NextToken=page["NextToken"],
                                        ExclusiveStartStreamName=names[2])
        self.assertEqual(nxt["StreamNames"], names[1:2])

    def test_describe_limits(self):
        before = self.kinesis.describe_limits()
        for k in ("ShardLimit", "OpenShardCount", "OnDemandStreamCount",
                  "OnDemandStreamCountLimit"):
            self.assertIsInstance(before[k], int, k)
        self.assertEqual(before["OnDemandStreamCountLimit"], 50)
        self.assertGreaterEqual(before["ShardLimit"], before["OpenShardCount"])
        name = self.create_stream(shards=3)
        after = self.kinesis.describe_limits()
        self.assertEqual(after["OpenShardCount"], before["OpenShardCount"] + 3)
        self.assertEqual(after["OnDemandStreamCount"], before["OnDemandStreamCount"])
        od = self.create_stream(on_demand=True)
        od_shards = self.kinesis.describe_stream_summary(StreamName=od)[
            "StreamDescriptionSummary"]["OpenShardCount"]
        final = self.kinesis.describe_limits()
        self.assertEqual(final["OnDemandStreamCount"], before["OnDemandStreamCount"] + 1)
        self.assertEqual(final["OpenShardCount"], after["OpenShardCount"] + od_shards)
        self.kinesis.delete_stream(StreamName=name)
        wait_for(lambda: self.kinesis.describe_limits()["OpenShardCount"]
                 == final["OpenShardCount"] - 3, 15, interval=0.1,
                 what="OpenShardCount to drop after DeleteStream")


class RecordsTest(RiffledTestCase):
    daemon_scope = "class"
    riffled_args = ("--shard-quotas=off",)

    def test_put_record_returns_shard_and_sequence_number(self):
        name = self.create_stream()
        out = self.kinesis.put_record(StreamName=name, Data=b"\x00\x01hello", PartitionKey="pk")
        self.assertEqual(out["ShardId"], shard_id(0))
        self.assertEqual(seq_fields(out["SequenceNumber"]), (0, 1))
        self.assertIn(out.get("EncryptionType", "NONE"), ("NONE",))
        out2 = self.kinesis.put_record(StreamName=name, Data=b"", PartitionKey="pk")
        self.assertEqual(seq_fields(out2["SequenceNumber"]), (0, 2))
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([(r["Data"], r["PartitionKey"], r["SequenceNumber"]) for r in recs],
                         [(b"\x00\x01hello", "pk", out["SequenceNumber"]),
                          (b"", "pk", out2["SequenceNumber"])])

    def test_max_record_size_is_set_per_stream(self):
        if not hasattr(self.kinesis, "update_max_record_size"):
            self.skipTest("this botocore predates UpdateMaxRecordSize")
        name = self.create_stream()
        two_mib = b"x" * (2 * 1024 * 1024)
        self.assertClientError("ValidationException", self.kinesis1.put_record,
                               StreamName=name, Data=two_mib, PartitionKey="pk")
        arn = self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamARN"]
        self.assertClientError("ValidationException", self.kinesis1.update_max_record_size,
                               StreamARN=arn, MaxRecordSizeInKiB=10241)
        self.kinesis.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=4096)
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["MaxRecordSizeInKiB"], 4096)
        out = self.kinesis.put_record(StreamName=name, Data=two_mib, PartitionKey="pk")
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([(len(r["Data"]), r["SequenceNumber"]) for r in recs],
                         [(len(two_mib), out["SequenceNumber"])])

    def test_partition_keys_route_by_md5(self):
        name = self.create_stream(shards=3)
        ranges = initial_ranges(3)
        # Vectors from the reference table, then many more keys.
        self.assertEqual(self.kinesis.put_record(StreamName=name, Data=b"v",
                                                 PartitionKey="user-1")["ShardId"], shard_id(2))
        self.assertEqual(self.kinesis.put_record(StreamName=name, Data=b"v",
                                                 PartitionKey="\u00e9")["ShardId"], shard_id(1))
        self.assertEqual(self.kinesis.put_record(StreamName=name, Data=b"v",
                                                 PartitionKey="partition-0")["ShardId"],
                         shard_id(0))
        keys = [f"key-{i}" for i in range(60)] + ["\u00fcber", "\u65e5\u672c", "a" * 256]
        placed = {}
        for k in keys:
            got = self.kinesis.put_record(StreamName=name, Data=k.encode(), PartitionKey=k)
            want = shard_id(shard_for(hash_key(k), ranges))
            self.assertEqual(got["ShardId"], want, f"partition key {k!r}")
            placed.setdefault(got["ShardId"], []).append(k)
        self.assertEqual(len(placed), 3, "60 keys should reach all three shards")
        for sid, ks in placed.items():
            stored = [r["PartitionKey"] for r in read_all_records(self.kinesis, name, sid)
                      if r["Data"] != b"v"]
            self.assertEqual(stored, ks)

    def test_partition_key_length_counts_characters_not_bytes(self):
        # 256 characters is the limit whatever their UTF-8 length.
        name = self.create_stream(shards=3)
        ranges = initial_ranges(3)
        for key in ("\u00e9" * 256, "\U0001F600" * 128, "\u65e5" * 256):
            with self.subTest(key=key[:3], utf8_bytes=len(key.encode())):
                out = self.kinesis.put_record(StreamName=name, Data=b"u", PartitionKey=key)
                self.assertEqual(out["ShardId"], shard_id(shard_for(hash_key(key), ranges)))
        self.assertClientError("ValidationException", self.kinesis1.put_record,
                               StreamName=name, Data=b"u", PartitionKey="\u00e9" * 257)

    def test_put_records_routes_each_entry_by_md5(self):
        name = self.create_stream(shards=4)
        ranges = initial_ranges(4)
        entries = [{"Data": f"d{i}".encode(), "PartitionKey": f"pk-{i}"} for i in range(40)]
        out = self.kinesis.put_records(StreamName=name, Records=entries)
        self.assertEqual(out["FailedRecordCount"], 0)
        self.assertEqual(len(out["Records"]), 40)
        for e, r in zip(entries, out["Records"]):
            self.assertEqual(r["ShardId"],
                             shard_id(shard_for(hash_key(e["PartitionKey"]), ranges)))
            self.assertNotIn("ErrorCode", r)
        self.assertEqual(self.kinesis.put_record(StreamName=name, Data=b"x",
                                                 PartitionKey="user-1")["ShardId"], shard_id(3))

    def test_explicit_hash_key_overrides_the_partition_key(self):
        name = self.create_stream(shards=3)
        ranges = initial_ranges(3)
        cases = [(0, 0), (ranges[0][1], 0), (ranges[1][0], 1), (ranges[1][1], 1),
                 (ranges[2][0], 2), (MAX_HASH, 2)]
        for h, want in cases:
            out = self.kinesis.put_record(StreamName=name, Data=b"e", PartitionKey="user-1",
                                          ExplicitHashKey=str(h))
            self.assertEqual(out["ShardId"], shard_id(want), f"ExplicitHashKey {h}")
        out = self.kinesis.put_records(StreamName=name, Records=[
            {"Data": b"e", "PartitionKey": "user-1", "ExplicitHashKey": "0"},
            {"Data": b"e", "PartitionKey": "a", "ExplicitHashKey": str(MAX_HASH)}])
        self.assertEqual([r["ShardId"] for r in out["Records"]], [shard_id(0), shard_id(2)])

    def test_sequence_number_for_ordering(self):
        name = self.create_stream()
        first = self.kinesis.put_record(StreamName=name, Data=b"1", PartitionKey="p")
        second = self.kinesis.put_record(StreamName=name, Data=b"2", PartitionKey="p",
                                         SequenceNumberForOrdering=first["SequenceNumber"])
        self.assertGreater(int(second["SequenceNumber"]), int(first["SequenceNumber"]))
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([r["Data"] for r in recs], [b"1", b"2"])
        # What this stream never gave out is no sequence number to order after: a number that
        # is not one, one of a shard the stream does not have, one past the shard's last record.
        other = self.create_stream(shards=3)
        foreign = self.kinesis.put_record(StreamName=other, Data=b"x", PartitionKey="p",
                                          ExplicitHashKey=str(MAX_HASH))["SequenceNumber"]
        beyond = str(int(second["SequenceNumber"]) + 10 ** 6)
        for bad in ("12345", foreign, beyond):
            with self.subTest(bad=bad):
                self.assertClientError(
                    "InvalidArgumentException", self.kinesis1.put_record, StreamName=name,
                    Data=b"3", PartitionKey="p", SequenceNumberForOrdering=bad,
                    message=f"ExclusiveMinimumSequenceNumber {bad} used in PutRecord on stream "
                            f"{name} under account {ACCOUNT} is invalid.")
        self.assertEqual(len(read_all_records(self.kinesis, name, shard_id(0))), 2)

    def test_put_records_results_match_the_request_in_order(self):
        name = self.create_stream()
        entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"k{i % 7}"} for i in range(500)]
        out = self.kinesis.put_records(StreamName=name, Records=entries)
        self.assertEqual(out["FailedRecordCount"], 0)
        self.assertEqual(len(out["Records"]), 500)
        seqs = [int(r["SequenceNumber"]) for r in out["Records"]]
        self.assertEqual(seqs, sorted(set(seqs)), "one call's entries keep request order")
        self.assertEqual([seq_fields(r["SequenceNumber"]) for r in out["Records"]],
                         [(0, i + 1) for i in range(500)])
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([r["Data"] for r in recs], [e["Data"] for e in entries])

    def test_ten_mib_put_records_is_accepted(self):
        # ~13.4 MiB of JSON once base64-encoded; must fit the request limit.
        name = self.create_stream(shards=10)
        ranges = initial_ranges(10)
        size = 1024 * 1024 - 100
        entries = [{"Data": bytes([65 + i]) * size, "PartitionKey": f"big{i}",
                    "ExplicitHashKey": str(ranges[i][0])} for i in range(10)]
        out = self.kinesis.put_records(StreamName=name, Records=entries)
        self.assertEqual(out["FailedRecordCount"], 0, out["Records"])
        recs = read_all_records(self.kinesis, name, shard_id(9))
        self.assertEqual([r["Data"] for r in recs], [entries[9]["Data"]])

    def test_get_records_returns_at_most_10_mib(self):
        name = self.create_stream(on_demand=True)
        data = [bytes([48 + i]) * (1024 * 1024 - 2) for i in range(11)]
        for part in (data[:6], data[6:]):
            out = self.kinesis.put_records(StreamName=name, Records=[
                {"Data": d, "PartitionKey": "pk", "ExplicitHashKey": "0"} for d in part])
            self.assertEqual(out["FailedRecordCount"], 0)
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        first = self.kinesis.get_records(ShardIterator=it)
        n = len(first["Records"])
        self.assertTrue(1 <= n <= 10, f"{n} records of 1 MiB in one GetRecords")
        self.assertGreater(first["MillisBehindLatest"], -1)
        rest = self.kinesis.get_records(ShardIterator=first["NextShardIterator"])
        self.assertEqual([r["Data"] for r in first["Records"] + rest["Records"]], data)

    def test_get_records_of_a_deleted_stream_is_not_found(self):
        name = self.create_stream()
        self.kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p")
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.kinesis.delete_stream(StreamName=name)
        wait_for(lambda: name not in self.kinesis.list_streams(Limit=10000)["StreamNames"], 15,
                 interval=0.05, what="stream deleted")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.get_records,
                               ShardIterator=it)

    def test_largest_single_record_round_trips(self):
        name = self.create_stream()
        # Data plus the 2-byte partition key make exactly 1 MiB, the record limit.
        data = (bytes(range(256)) * 4096)[:1024 * 1024 - 2]
        out = self.kinesis.put_record(StreamName=name, Data=data, PartitionKey="pk")
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["SequenceNumber"], out["SequenceNumber"])
        self.assertEqual(recs[0]["Data"], data)

    def test_ordering_within_a_shard(self):
        name = self.create_stream()
        seqs, datas = [], []
        for i in range(30):
            d = f"single-{i}".encode()
            seqs.append(int(self.kinesis.put_record(StreamName=name, Data=d,
                                                    PartitionKey=f"k{i}")["SequenceNumber"]))
            datas.append(d)
            if i % 10 == 9:
                batch = [{"Data": f"batch-{i}-{j}".encode(), "PartitionKey": f"b{j}"}
                         for j in range(5)]
                out = self.kinesis.put_records(StreamName=name, Records=batch)
                seqs.extend(int(r["SequenceNumber"]) for r in out["Records"])
                datas.extend(e["Data"] for e in batch)
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([r["Data"] for r in recs], datas)
        self.assertEqual([int(r["SequenceNumber"]) for r in recs], seqs)
        stamps = [r["ApproximateArrivalTimestamp"] for r in recs]
        self.assertEqual(stamps, sorted(stamps), "arrival times never go back within a shard")

    def test_get_records_limit_and_next_iterator(self):
        name = self.create_stream()
        for i in range(5):
            self.kinesis.put_record(StreamName=name, Data=f"{i}".encode(), PartitionKey="p")
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        seen = []
        for want in ([b"0", b"1"], [b"2", b"3"], [b"4"], [], []):
            out = self.kinesis.get_records(ShardIterator=it, Limit=2)
            self.assertEqual([r["Data"] for r in out["Records"]], want)
            self.assertIn("NextShardIterator", out, "open shards always give a next iterator")
            self.assertIsInstance(out["MillisBehindLatest"], int)
            self.assertNotIn("ChildShards", [k for k, v in out.items() if v])
            it = out["NextShardIterator"]
            seen += out["Records"]
        self.assertEqual(out["MillisBehindLatest"], 0)
        # An iterator is a position: using it again gives the same answer.
        self.kinesis.put_record(StreamName=name, Data=b"5", PartitionKey="p")
        a = self.kinesis.get_records(ShardIterator=it)["Records"]
        b = self.kinesis.get_records(ShardIterator=it)["Records"]
        self.assertEqual([r["Data"] for r in a], [b"5"])
        self.assertEqual(a, b)

    def test_millis_behind_latest(self):
        name = self.create_stream()
        for i in range(3):
            self.kinesis.put_record(StreamName=name, Data=b"m", PartitionKey="p")
        put_done = time.monotonic()
        wait_for(lambda: time.monotonic() - put_done > 0.3, 5, what="records to age")
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out = self.kinesis.get_records(ShardIterator=it, Limit=1)
        self.assertEqual(len(out["Records"]), 1)
        self.assertGreaterEqual(out["MillisBehindLatest"], 200)
        self.assertLess(out["MillisBehindLatest"], 120000)
        out = self.kinesis.get_records(ShardIterator=out["NextShardIterator"])
        self.assertEqual(len(out["Records"]), 2)
        self.assertEqual(out["MillisBehindLatest"], 0)

    def test_arrival_timestamp_is_now_with_milliseconds(self):
        name = self.create_stream()
        for i in range(8):
            self.kinesis.put_record(StreamName=name, Data=b"t", PartitionKey="p")
            time.sleep(0.003)
        recs = read_all_records(self.kinesis, name, shard_id(0))
        for r in recs:
            ts = r["ApproximateArrivalTimestamp"]
            self.assertIsInstance(ts, datetime.datetime)
            self.assertIsNotNone(ts.tzinfo)
            self.assertLess(abs((self.now() - ts).total_seconds()), 30)
            self.assertEqual(ts.microsecond % 1000, 0, "millisecond precision")
        # On the wire: epoch seconds with a fraction of at most 3 digits.
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        raw = self.riffled.raw("GetRecords", {"ShardIterator": it})
        self.assertEqual(raw.status, 200, raw)
        stamps = re.findall(rb'"ApproximateArrivalTimestamp"\s*:\s*([0-9.eE+-]+)', raw.body)
        self.assertEqual(len(stamps), 8, raw.body[:500])
        for s in stamps:
            self.assertRegex(s.decode(), r"^\d{10}(\.\d{1,3})?$")
        self.assertTrue(any(b"." in s for s in stamps),
                        f"no arrival time carries milliseconds: {stamps}")

    def test_iterator_types(self):
        name = self.create_stream()
        seqs = [self.kinesis.put_record(StreamName=name, Data=f"{i}".encode(),
                                        PartitionKey="p")["SequenceNumber"] for i in range(5)]

        def read(kind, **kw):
            it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                                 ShardIteratorType=kind, **kw)["ShardIterator"]
            return [r["Data"] for r in self.kinesis.get_records(ShardIterator=it)["Records"]]

        self.assertEqual(read("TRIM_HORIZON"), [b"0", b"1", b"2", b"3", b"4"])
        self.assertEqual(read("AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]),
                         [b"2", b"3", b"4"])
        self.assertEqual(read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2]),
                         [b"3", b"4"])
        self.assertEqual(read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[4]), [])
        start = self.kinesis.list_shards(StreamName=name)["Shards"][0][
            "SequenceNumberRange"]["StartingSequenceNumber"]
        self.assertEqual(read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=start),
                         [b"0", b"1", b"2", b"3", b"4"])
        self.assertEqual(read("AT_SEQUENCE_NUMBER", StartingSequenceNumber=start),
                         [b"0", b"1", b"2", b"3", b"4"])
        self.assertEqual(read("AT_TIMESTAMP", Timestamp=time.time() - 3600),
                         [b"0", b"1", b"2", b"3", b"4"])

        latest = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                                 ShardIteratorType="LATEST")["ShardIterator"]
        self.assertEqual(self.kinesis.get_records(ShardIterator=latest)["Records"], [])
        self.kinesis.put_record(StreamName=name, Data=b"5", PartitionKey="p")
        self.assertEqual([r["Data"] for r in
                          self.kinesis.get_records(ShardIterator=latest)["Records"]], [b"5"])

    def test_at_timestamp_starts_at_the_first_record_not_older(self):
        name = self.create_stream()
        self.kinesis.put_record(StreamName=name, Data=b"old", PartitionKey="p")
        boundary = int(time.time()) + 1
        # boto3 sends whole seconds, so put the next record after a second boundary.
        wait_for(lambda: time.time() > boundary + 0.05, 3, interval=0.01,
                 what="the next second")
        self.kinesis.put_record(StreamName=name, Data=b"new", PartitionKey="p")
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="AT_TIMESTAMP",
                                             Timestamp=boundary)["ShardIterator"]
        recs = self.kinesis.get_records(ShardIterator=it)["Records"]
        self.assertEqual([r["Data"] for r in recs], [b"new"])

    def test_stream_arn_works_instead_of_stream_name(self):
        name = self.create_stream(shards=2)
        arn = stream_arn(name)
        k = self.kinesis
        self.assertEqual(k.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"],
                         name)
        self.assertEqual(k.describe_stream_summary(StreamARN=arn)[
            "StreamDescriptionSummary"]["StreamName"], name)
        self.assertEqual(len(k.list_shards(StreamARN=arn)["Shards"]), 2)
        put = k.put_record(StreamARN=arn, Data=b"a", PartitionKey="user-1")
        self.assertEqual(put["ShardId"], shard_id(1))
        puts = k.put_records(StreamARN=arn, Records=[{"Data": b"b", "PartitionKey": "user-1"}])
        self.assertEqual(puts["FailedRecordCount"], 0)
        it = k.get_shard_iterator(StreamARN=arn, ShardId=shard_id(1),
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        recs = k.get_records(ShardIterator=it, StreamARN=arn)["Records"]
        self.assertEqual([r["Data"] for r in recs], [b"a", b"b"])
        k.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=48)
        k.decrease_stream_retention_period(StreamARN=arn, RetentionPeriodHours=36)
        k.add_tags_to_stream(StreamARN=arn, Tags={"a": "1", "b": "2"})
        k.remove_tags_from_stream(StreamARN=arn, TagKeys=["a"])
        self.assertEqual(k.list_tags_for_stream(StreamARN=arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        mon = k.enable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual(mon["DesiredShardLevelMetrics"], ["IncomingBytes"])
        k.disable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["IncomingBytes"])
        k.start_stream_encryption(StreamARN=arn, EncryptionType="KMS",
                                  KeyId="alias/aws/kinesis")
        self.wait_active(name)
        k.stop_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.wait_active(name)
        summary = k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["RetentionPeriodHours"], 36)
        self.assertEqual(summary["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertEqual(summary.get("EncryptionType"), "NONE")
        # Both given and naming the same stream is fine.
        self.assertEqual(k.describe_stream_summary(StreamName=name, StreamARN=arn)[
            "StreamDescriptionSummary"]["StreamARN"], arn)
        k.delete_stream(StreamARN=arn)
        wait_for(lambda: name not in k.list_streams(Limit=10000)["StreamNames"], 15,
                 interval=0.05, what="stream deleted by ARN")

    def test_retention_period_changes(self):
        name = self.create_stream()

        def hours():
            return self.kinesis.describe_stream_summary(StreamName=name)[
                "StreamDescriptionSummary"]["RetentionPeriodHours"]
        self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=168)
        self.assertEqual(hours(), 168)
        self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8760)
        self.assertEqual(hours(), 8760)
        self.kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
        self.assertEqual(hours(), 24)
        self.assertEqual(self.kinesis.describe_stream(StreamName=name)["StreamDescription"][
            "RetentionPeriodHours"], 24)

    def test_retention_period_errors(self):
        name = self.create_stream()
        k = self.kinesis1
        self.assertClientError(
            "InvalidArgumentException", k.increase_stream_retention_period, StreamName=name,
            RetentionPeriodHours=12,
            message="Minimum allowed retention period is 24 hours. Requested retention "
                    "period (12 hours) is too short.")
        self.assertClientError(
            "InvalidArgumentException", k.decrease_stream_retention_period, StreamName=name,
            RetentionPeriodHours=23,
            message="Minimum allowed retention period is 24 hours. Requested retention "
                    "period (23 hours) is too short.")
        self.assertClientError("InvalidArgumentException", k.increase_stream_retention_period,
                               StreamName=name, RetentionPeriodHours=8761)
        k.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
        self.assertClientError("InvalidArgumentException", k.increase_stream_retention_period,
                               StreamName=name, RetentionPeriodHours=36,
                               message_re=r"can not be shorter than existing retention period "
                                          r"\(48 hours\)")
        self.assertClientError("InvalidArgumentException", k.decrease_stream_retention_period,
                               StreamName=name, RetentionPeriodHours=72,
                               message_re=r"can not be longer than existing retention period "
                                          r"\(48 hours\)")
        self.assertClientError("ResourceNotFoundException", k.increase_stream_retention_period,
                               StreamName=name + "-missing", RetentionPeriodHours=48)
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["RetentionPeriodHours"], 48)

    def test_stream_tags(self):
        name = self.create_stream()
        k = self.kinesis
        k.add_tags_to_stream(StreamName=name, Tags={"b": "2", "a": "1", "c": ""})
        k.add_tags_to_stream(StreamName=name, Tags={"a": "one"})  # overwrites
        out = k.list_tags_for_stream(StreamName=name)
        self.assertEqual(out["Tags"], [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"},
                                       {"Key": "c", "Value": ""}])
        self.assertFalse(out["HasMoreTags"])
        page = k.list_tags_for_stream(StreamName=name, Limit=1)
        self.assertEqual(page["Tags"], [{"Key": "a", "Value": "one"}])
        self.assertTrue(page["HasMoreTags"])
        page = k.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="a")
        self.assertEqual([t["Key"] for t in page["Tags"]], ["b", "c"])
        self.assertFalse(page["HasMoreTags"])
        k.remove_tags_from_stream(StreamName=name, TagKeys=["b", "no-such-key"])
        self.assertEqual([t["Key"] for t in k.list_tags_for_stream(StreamName=name)["Tags"]],
                         ["a", "c"])

    def test_resource_tags(self):
        name = self.create_stream()
        arn = stream_arn(name)
        k = self.kinesis
        k.tag_resource(ResourceARN=arn, Tags={"x": "1", "y": "2"})
        got = k.list_tags_for_resource(ResourceARN=arn)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in got), [("x", "1"), ("y", "2")])
        k.untag_resource(ResourceARN=arn, TagKeys=["x"])
        self.assertEqual(k.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "y", "Value": "2"}])
        # Both views show the same tags.
        self.assertEqual(k.list_tags_for_stream(StreamName=name)["Tags"],
                         [{"Key": "y", "Value": "2"}])
        self.assertClientError("ResourceNotFoundException", self.kinesis1.list_tags_for_resource,
                               ResourceARN=stream_arn(name + "-missing"))

    def test_too_many_tags_is_rejected(self):
        name = self.create_stream()
        self.kinesis.add_tags_to_stream(StreamName=name,
                                        Tags={f"k{i}": "v" for i in range(50)})
        self.assertClientError("InvalidArgumentException", self.kinesis1.add_tags_to_stream,
                               StreamName=name, Tags={"one-more": "v"})
        self.assertEqual(len(self.kinesis.list_tags_for_stream(StreamName=name, Limit=50)[
            "Tags"]), 50)

    def test_enhanced_monitoring(self):
        name = self.create_stream()
        k = self.kinesis
        out = k.enable_enhanced_monitoring(StreamName=name,
                                           ShardLevelMetrics=["IncomingBytes", "OutgoingBytes"])
        self.assertEqual(out["StreamName"], name)
        self.assertEqual(out["StreamARN"], stream_arn(name))
        self.assertEqual(out["CurrentShardLevelMetrics"], [])
        self.assertEqual(set(out["DesiredShardLevelMetrics"]), {"IncomingBytes",
                                                                "OutgoingBytes"})
        out = k.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(set(out["CurrentShardLevelMetrics"]), {"IncomingBytes",
                                                                "OutgoingBytes"})
        self.assertEqual(len(out["DesiredShardLevelMetrics"]), 7)
        self.assertEqual(set(out["DesiredShardLevelMetrics"]), ALL_METRICS)
        em = k.describe_stream(StreamName=name)["StreamDescription"]["EnhancedMonitoring"]
        self.assertEqual(len(em), 1)
        self.assertEqual(set(em[0]["ShardLevelMetrics"]), ALL_METRICS)
        out = k.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual(set(out["CurrentShardLevelMetrics"]), ALL_METRICS)
        self.assertEqual(set(out["DesiredShardLevelMetrics"]), ALL_METRICS - {"IncomingBytes"})
        out = k.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(out["DesiredShardLevelMetrics"], [])
        self.assertEqual(k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "EnhancedMonitoring"], [{"ShardLevelMetrics": []}])

    def test_update_stream_mode(self):
        name = self.create_stream(shards=2)
        arn = stream_arn(name)
        out = self.kinesis.update_stream_mode(StreamARN=arn,
                                              StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.assertEqual(set(out) - {"ResponseMetadata"}, set())
        self.wait_active(name)
        s = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})
        self.kinesis.update_stream_mode(StreamARN=arn,
                                        StreamModeDetails={"StreamMode": "PROVISIONED"})
        self.wait_active(name)
        s = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        # Records survive the switch and writes still work.
        self.assertEqual(self.kinesis.put_record(StreamName=name, Data=b"m",
                                                 PartitionKey="user-1")["ShardId"], shard_id(1))

    def test_stream_encryption(self):
        name = self.create_stream()
        k = self.kinesis
        k.start_stream_encryption(StreamName=name, EncryptionType="KMS",
                                  KeyId="alias/aws/kinesis")
        self.wait_active(name)
        s = k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["EncryptionType"], "KMS")
        self.assertEqual(s["KeyId"], "alias/aws/kinesis")
        d = k.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual((d["EncryptionType"], d["KeyId"]), ("KMS", "alias/aws/kinesis"))
        put = k.put_record(StreamName=name, Data=b"secret", PartitionKey="p")
        self.assertEqual(put["EncryptionType"], "KMS")
        puts = k.put_records(StreamName=name, Records=[{"Data": b"s2", "PartitionKey": "p"}])
        self.assertEqual(puts["EncryptionType"], "KMS")
        recs = read_all_records(k, name, shard_id(0))
        self.assertEqual([(r["Data"], r.get("EncryptionType")) for r in recs],
                         [(b"secret", "KMS"), (b"s2", "KMS")])
        k.stop_stream_encryption(StreamName=name, EncryptionType="KMS",
                                 KeyId="alias/aws/kinesis")
        self.wait_active(name)
        s = k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s.get("EncryptionType"), "NONE")
        self.assertIsNone(s.get("KeyId"))
        self.assertClientError("InvalidArgumentException", self.kinesis1.start_stream_encryption,
                               StreamName=name, EncryptionType="NONE", KeyId="alias/aws/kinesis")

    def test_access_key_of_12_digits_is_the_account(self):
        other = self.riffled.client(access_key="123456789012")
        name = self.unique_name()
        other.create_stream(StreamName=name, ShardCount=1)
        wait_for(lambda: other.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 10, what="ACTIVE")
        s = other.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamARN"], f"arn:aws:kinesis:{REGION}:123456789012:stream/{name}")
        self.assertIn(name, other.list_streams(Limit=10000)["StreamNames"])
        other1 = self.riffled.client(access_key="123456789012", retries=False)
        self.assertClientError("ResourceNotFoundException", other1.describe_stream_summary,
                               StreamName=name + "-x",
                               message=f"Stream {name}-x under account 123456789012 not found.")
        # Other access keys (not 12 digits) mean the default account.
        odd = self.riffled.client(access_key="12345678901", retries=False)
        self.assertClientError("ResourceNotFoundException", odd.describe_stream_summary,
                               StreamName=name + "-x",
                               message=f"Stream {name}-x under account {ACCOUNT} not found.")

    def test_one_namespace_serves_every_account_and_region(self):
        # riffled keeps one set of streams per data directory: callers with other keys or
        # regions see the same streams, each with ARNs in its own account and region.
        other = self.riffled.client(access_key="123456789012", region="eu-west-1")
        name = self.unique_name()
        other.create_stream(StreamName=name, ShardCount=1)
        self.assertIn(name, self.kinesis.list_streams(Limit=10000)["StreamNames"])
        mine = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(mine["StreamARN"], f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}")
        other.put_record(StreamName=name, Data=b"other", PartitionKey="p")
        self.assertEqual([r["Data"] for r in read_all_records(self.kinesis, name, shard_id(0))],
                         [b"other"])
        # An ARN naming another account than the caller's does not resolve.
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_summary,
                               StreamARN=f"arn:aws:kinesis:{REGION}:123456789012:stream/{name}")

    def test_region_is_taken_from_the_client(self):
        west = self.riffled.client(region="eu-west-1")
        name = self.unique_name()
        west.create_stream(StreamName=name, ShardCount=1)
        wait_for(lambda: west.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 10, what="ACTIVE")
        s = west.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamARN"], f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/{name}")


class RestartTest(RiffledTestCase):
    riffled_args = ("--shard-quotas=off",)

    def write_some(self, name, shards, n, tag):
        acked = []
        for i in range(n):
            out = self.kinesis.put_record(StreamName=name, Data=f"{tag}-{i}".encode(),
                                          PartitionKey=f"{tag}-{i}")
            acked.append((out["ShardId"], out["SequenceNumber"], f"{tag}-{i}".encode()))
        out = self.kinesis.put_records(StreamName=name, Records=[
            {"Data": f"{tag}-b{i}".encode(), "PartitionKey": f"{tag}-b{i}"} for i in range(20)])
        self.assertEqual(out["FailedRecordCount"], 0)
        for i, r in enumerate(out["Records"]):
            acked.append((r["ShardId"], r["SequenceNumber"], f"{tag}-b{i}".encode()))
        return acked

    def snapshot(self, name, shards):
        return {shard_id(i): [(r["SequenceNumber"], r["Data"], r["PartitionKey"],
                               r["ApproximateArrivalTimestamp"])
                              for r in read_all_records(self.kinesis, name, shard_id(i))]
                for i in range(shards)}

    def check_restart(self, graceful):
        name = self.create_stream(shards=3)
        acked = self.write_some(name, 3, 30, "before")
        before = self.snapshot(name, 3)
        self.assertEqual(sum(len(v) for v in before.values()), len(acked))
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.riffled.restart(graceful=graceful)
        after = self.snapshot(name, 3)
        self.assertEqual(after, before)
        s = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual((s["StreamStatus"], s["OpenShardCount"]), ("ACTIVE", 3))
        # Iterators issued before the restart still work.
        got = self.kinesis.get_records(ShardIterator=it)["Records"]
        self.assertEqual([r["SequenceNumber"] for r in got],
                         [b[0] for b in before[shard_id(0)]])
        # New writes get numbers above every old one of their shard.
        more = self.write_some(name, 3, 10, "after")
        for sid, seq, _ in more:
            old = [int(x[0]) for x in before[sid]]
            if old:
                self.assertGreater(int(seq), max(old))
        final = self.snapshot(name, 3)
        for sid in final:
            self.assertEqual(final[sid][:len(before[sid])], before[sid])

    def test_records_survive_a_graceful_restart(self):
        self.check_restart(graceful=True)

    def test_records_survive_kill_9(self):
        self.check_restart(graceful=False)

    def test_stream_settings_survive_a_restart(self):
        name = self.create_stream(shards=2, Tags={"t": "v"})
        self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=72)
        self.kinesis.enable_enhanced_monitoring(StreamName=name,
                                                ShardLevelMetrics=["IncomingRecords"])
        before = self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]
        self.riffled.restart(graceful=True)
        after = self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]
        for k in ("StreamARN", "StreamStatus", "RetentionPeriodHours", "OpenShardCount",
                  "StreamCreationTimestamp", "EnhancedMonitoring", "StreamModeDetails"):
            self.assertEqual(after[k], before[k], k)
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"],
                         [{"Key": "t", "Value": "v"}])


class IteratorExpiryTest(RiffledTestCase):
    daemon_scope = "class"
    riffled_args = ("--iterator-ttl-ms", "1500", "--shard-quotas=off")

    def test_iterator_expires_after_its_ttl(self):
        name = self.create_stream()
        self.kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p")
        issued = time.monotonic()
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out = self.kinesis1.get_records(ShardIterator=it)
        self.assertEqual(len(out["Records"]), 1)
        fresh = out["NextShardIterator"]

        def expired():
            try:
                self.kinesis1.get_records(ShardIterator=it)
                return False
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "ExpiredIteratorException":
                    return e
                raise
        e = wait_for(expired, 15, interval=0.1, what="ExpiredIteratorException")
        self.assertGreaterEqual(time.monotonic() - issued, 1.4)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertRegex(e.response["Error"]["Message"],
                         r"^Iterator expired\. The iterator was created at time .+ while right "
                         r"now it is .+ which is further in the future than the tolerated delay "
                         r"of \d+ milliseconds\.$")
        # Each GetRecords hands out a new iterator with its own clock.
        it2 = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                              ShardIteratorType="LATEST")["ShardIterator"]
        out = self.kinesis1.get_records(ShardIterator=it2)
        self.assertEqual(out["Records"], [])
        self.assertIsInstance(fresh, str)


class QuotaTest(RiffledTestCase):
    daemon_scope = "class"

    def hammer_get_records(self, name, calls=25):
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        throttled = []
        for _ in range(calls):
            try:
                out = self.kinesis1.get_records(ShardIterator=it)
                it = out["NextShardIterator"]
            except botocore.exceptions.ClientError as e:
                throttled.append(e)
        return throttled

    def hammer_put_records(self, name, calls=4):
        results = []
        for c in range(calls):
            out = self.kinesis1.put_records(StreamName=name, Records=[
                {"Data": b"q", "PartitionKey": f"p{c}-{i}"} for i in range(500)])
            self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
            self.assertEqual(len(out["Records"]), 500)
            results.append(out)
        return results

    def test_provisioned_get_records_is_throttled(self):
        name = self.create_stream()
        self.kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p")
        throttled = self.hammer_get_records(name)
        self.assertTrue(throttled, "25 GetRecords in a burst on one shard were all served")
        e = throttled[0]
        self.assertEqual(e.response["Error"]["Code"], "ProvisionedThroughputExceededException")
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(e.response["Error"]["Message"],
                         f"Rate exceeded for shard {shard_id(0)} in stream {name} under "
                         f"account {ACCOUNT}.")
        self.assertLessEqual(len(throttled), 25 - 5, "the first five calls fit the quota")

    def test_provisioned_put_records_fails_entries_over_1000_per_second(self):
        name = self.create_stream()
        results = self.hammer_put_records(name)
        failed = sum(r["FailedRecordCount"] for r in results)
        self.assertGreater(failed, 0, "2000 records in a burst on one shard all succeeded")
        self.assertLess(failed, 2000)
        for out in results:
            self.assertEqual(out["FailedRecordCount"],
                             sum(1 for r in out["Records"] if "ErrorCode" in r))
            for r in out["Records"]:
                if "ErrorCode" in r:
                    self.assertEqual(r["ErrorCode"], "ProvisionedThroughputExceededException")
                    self.assertEqual(r["ErrorMessage"],
                                     f"Rate exceeded for shard {shard_id(0)} in stream {name} "
                                     f"under account {ACCOUNT}.")
                    self.assertNotIn("SequenceNumber", r)
                    self.assertNotIn("ShardId", r)
                else:
                    self.assertEqual(r["ShardId"], shard_id(0))
        ok = [r["SequenceNumber"] for out in results for r in out["Records"]
              if "ErrorCode" not in r]
        stored = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([r["SequenceNumber"] for r in stored], ok,
                         "exactly the acknowledged entries are stored")

    def test_provisioned_put_record_is_throttled_with_400(self):
        # 900 KiB records against the 1 MiB/s write quota of one shard.
        name = self.create_stream()
        big = b"w" * (900 * 1024)
        outcomes = []
        for _ in range(6):
            try:
                outcomes.append(self.kinesis1.put_record(StreamName=name, Data=big,
                                                         PartitionKey="p")["ShardId"])
            except botocore.exceptions.ClientError as e:
                outcomes.append(e)
        self.assertEqual(outcomes[0], shard_id(0))
        errors = [e for e in outcomes if not isinstance(e, str)]
        self.assertTrue(errors, "5.4 MB in a burst on one shard was all accepted")
        e = errors[0]
        self.assertEqual(e.response["Error"]["Code"], "ProvisionedThroughputExceededException")
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(e.response["Error"]["Message"],
                         f"Rate exceeded for shard {shard_id(0)} in stream {name} under "
                         f"account {ACCOUNT}.")

    def test_provisioned_read_of_5_mib_blocks_the_next_call(self):
        # Fill the shard while on-demand (no write quota), then switch to
        # PROVISIONED: a 5 MiB read overdraws the 2 MiB/s read budget.
        name = self.create_stream(on_demand=True)
        out = self.kinesis.put_records(StreamName=name, Records=[
            {"Data": b"r" * (1024 * 1024 - 2), "PartitionKey": "pk", "ExplicitHashKey": "0"}
            for _ in range(5)])
        self.assertEqual(out["FailedRecordCount"], 0)
        self.kinesis.update_stream_mode(StreamARN=stream_arn(name),
                                        StreamModeDetails={"StreamMode": "PROVISIONED"})
        self.wait_active(name)
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = self.kinesis1.get_records(ShardIterator=it)
        self.assertEqual(len(got["Records"]), 5)
        self.assertClientError("ProvisionedThroughputExceededException",
                               self.kinesis1.get_records,
                               ShardIterator=got["NextShardIterator"],
                               message=f"Rate exceeded for shard {shard_id(0)} in stream {name} "
                                       f"under account {ACCOUNT}.")

    def test_on_demand_stream_is_never_throttled(self):
        name = self.create_stream(on_demand=True)
        # Route everything to one shard.
        results = []
        for c in range(4):
            out = self.kinesis1.put_records(StreamName=name, Records=[
                {"Data": b"q", "PartitionKey": "p", "ExplicitHashKey": "0"}
                for _ in range(500)])
            results.append(out)
        self.assertEqual([r["FailedRecordCount"] for r in results], [0, 0, 0, 0])
        self.assertEqual(self.hammer_get_records(name), [])


class QuotasOffTest(RiffledTestCase):
    """--shard-quotas=off: the same bursts on a PROVISIONED stream all succeed."""
    daemon_scope = "class"
    riffled_args = ("--shard-quotas=off",)
    hammer_get_records = QuotaTest.hammer_get_records
    hammer_put_records = QuotaTest.hammer_put_records

    def test_get_records_burst_is_not_throttled(self):
        name = self.create_stream()
        self.kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p")
        self.assertEqual(self.hammer_get_records(name), [])

    def test_put_records_burst_is_not_throttled(self):
        name = self.create_stream()
        results = self.hammer_put_records(name)
        self.assertEqual([r["FailedRecordCount"] for r in results], [0, 0, 0, 0])
        self.assertEqual(len(read_all_records(self.kinesis, name, shard_id(0))), 2000)

    def test_big_put_record_burst_is_not_throttled(self):
        name = self.create_stream()
        big = b"w" * (900 * 1024)
        for _ in range(6):
            out = self.kinesis1.put_record(StreamName=name, Data=big, PartitionKey="p")
            self.assertEqual(out["ShardId"], shard_id(0))


if __name__ == "__main__":
    unittest.main()
