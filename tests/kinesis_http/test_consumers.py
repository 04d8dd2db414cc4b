"""Enhanced fan-out through the Kinesis HTTP front end, driven by boto3 and raw sockets.

Covers the consumer registry (RegisterStreamConsumer, DescribeStreamConsumer by
ConsumerARN and by StreamARN + ConsumerName, ListStreamConsumers pagination,
DeregisterStreamConsumer, the 20-consumer limit, ConsumerCount, DeleteStream
with EnforceConsumerDeletion) and SubscribeToShard over HTTP/1.1: every
StartingPosition type, live delivery, ContinuationSequenceNumber, heartbeats,
the shard-end event after a split, errors before streaming, the event-stream
framing on the wire, and a clean SIGTERM while a subscription is open.
"""

import datetime
import json
import queue
import re
import socket
import struct
import threading
import time
import unittest
import zlib

import botocore.exceptions

from harness import (ACCOUNT, MAX_HASH, REGION, TARGET_PREFIX, RiffledTestCase, auth_headers,
                     shard_id, stream_arn, wait_for)

EVENTSTREAM_CT = "application/vnd.amazon.eventstream"
HALF_HASH = 2**127


def consumer_arn_re(stream, consumer):
    return (rf"^arn:aws:kinesis:{re.escape(REGION)}:{ACCOUNT}:stream/{re.escape(stream)}"
            rf"/consumer/{re.escape(consumer)}:(\d+)$")


class EventReader:
    """Reads a boto3 SubscribeToShard event stream on a thread so that tests can wait for
    events with deadlines. Every item is (kind, value, monotonic arrival time)."""

    def __init__(self, response):
        self.response = response
        self.stream = response["EventStream"]
        self.items = queue.Queue()
        self.events = []  # every SubscribeToShardEvent received so far
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for event in self.stream:
                self.items.put(("event", event, time.monotonic()))
            self.items.put(("end", None, time.monotonic()))
        except Exception as e:  # reported to the test by next()
            self.items.put(("error", e, time.monotonic()))

    def next(self, timeout):
        """The next SubscribeToShardEvent as (event, arrival time), or (None, time) at the
        end of the body; fails on a deadline or a stream error."""
        try:
            kind, value, at = self.items.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event-stream message within {timeout:.1f}s; "
                                 f"events so far: {self.events}") from None
        if kind == "error":
            raise AssertionError(f"the event stream failed: {value!r}; events so far: "
                                 f"{self.events}")
        if kind == "end":
            return None, at
        if set(value) != {"SubscribeToShardEvent"}:
            raise AssertionError(f"unexpected event {value!r}")
        self.events.append(value["SubscribeToShardEvent"])
        return value["SubscribeToShardEvent"], at

    def records(self, count, timeout):
        """Reads events until `count` records came (fails beyond that), returns them."""
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < count:
            event, _ = self.next(max(0.01, deadline - time.monotonic()))
            if event is None:
                raise AssertionError(f"the stream ended after {len(got)} of {count} records")
            got.extend(event["Records"])
        if len(got) != count:
            raise AssertionError(f"expected {count} records, got {len(got)}: {got}")
        return got

    def close(self):
        # Shut the socket down first: closing the buffered body waits for the lock a
        # blocked read holds, which would cost a heartbeat period per stream.
        raw = getattr(self.stream, "_raw_stream", None)
        sock = getattr(getattr(raw, "_connection", None), "sock", None)
        if sock is None:
            fp = getattr(getattr(raw, "_fp", None), "fp", None)
            sock = getattr(getattr(fp, "raw", None), "_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            self.stream.close()
        except Exception:
            pass
        self.thread.join(timeout=5)


class ConsumerRegistryTest(RiffledTestCase):
    daemon_scope = "class"

    def new_stream(self, shards=1):
        name = self.create_stream(shards=shards)
        return name, stream_arn(name)

    def register(self, arn, name):
        return self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]

    def consumer_count(self, stream):
        s = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        self.assertIn("ConsumerCount", s, s)
        return s["ConsumerCount"]

    def test_register_then_describe_by_arn_and_by_stream_arn_and_name(self):
        stream, arn = self.new_stream()
        before = self.now()
        out = self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app-1")
        self.assertEqual(set(out) - {"ResponseMetadata"}, {"Consumer"})
        c = out["Consumer"]
        self.assertEqual(set(c), {"ConsumerName", "ConsumerARN", "ConsumerStatus",
                                  "ConsumerCreationTimestamp"})
        self.assertEqual(c["ConsumerName"], "app-1")
        self.assertEqual(c["ConsumerStatus"], "ACTIVE")
        created = c["ConsumerCreationTimestamp"]
        self.assertIsInstance(created, datetime.datetime)
        self.assertLessEqual(before - datetime.timedelta(seconds=2), created)
        self.assertLessEqual(created, self.now() + datetime.timedelta(seconds=2))
        m = re.match(consumer_arn_re(stream, "app-1"), c["ConsumerARN"])
        self.assertTrue(m, c["ConsumerARN"])
        self.assertEqual(int(m.group(1)), int(created.timestamp()),
                         "the ARN ends with the creation time in epoch seconds")

        expected = dict(c, StreamARN=arn)
        by_arn = self.kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])
        self.assertEqual(set(by_arn) - {"ResponseMetadata"}, {"ConsumerDescription"})
        self.assertEqual(by_arn["ConsumerDescription"], expected)
        by_name = self.kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="app-1")
        self.assertEqual(by_name["ConsumerDescription"], expected)
        all_three = self.kinesis.describe_stream_consumer(
            StreamARN=arn, ConsumerName="app-1", ConsumerARN=c["ConsumerARN"])
        self.assertEqual(all_three["ConsumerDescription"], expected)

    def test_list_pages_one_consumer_at_a_time_with_next_token(self):
        stream, arn = self.new_stream()
        registered = {}
        for name in ("alpha", "beta", "gamma"):
            registered[name] = self.register(arn, name)
        pages = []
        out = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=1)
        pages.append(out["Consumers"])
        tokens = []
        while "NextToken" in out:
            self.assertIsInstance(out["NextToken"], str)
            self.assertTrue(out["NextToken"])
            tokens.append(out["NextToken"])
            self.assertLess(len(pages), 5, f"pagination does not end: {pages}")
            out = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=1,
                                                     NextToken=out["NextToken"])
            pages.append(out["Consumers"])
        self.assertEqual([len(p) for p in pages], [1, 1, 1], pages)
        self.assertEqual(len(tokens), 2)
        self.assertNotEqual(tokens[0], tokens[1])
        listed = [p[0] for p in pages]
        self.assertEqual(sorted(c["ConsumerName"] for c in listed), ["alpha", "beta", "gamma"])
        for c in listed:
            self.assertEqual(c, registered[c["ConsumerName"]])

        # One page holds them all, without a NextToken.
        whole = self.kinesis.list_stream_consumers(StreamARN=arn)
        self.assertNotIn("NextToken", whole)
        self.assertEqual(sorted(c["ConsumerName"] for c in whole["Consumers"]),
                         ["alpha", "beta", "gamma"])
        big = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=10000)
        self.assertNotIn("NextToken", big)
        self.assertEqual(len(big["Consumers"]), 3)
        # A page of 2 then a page of 1.
        first = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
        self.assertEqual(len(first["Consumers"]), 2)
        second = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2,
                                                    NextToken=first["NextToken"])
        self.assertEqual(len(second["Consumers"]), 1)
        self.assertNotIn("NextToken", second)
        self.assertEqual(sorted(c["ConsumerName"]
                                for c in first["Consumers"] + second["Consumers"]),
                         ["alpha", "beta", "gamma"])

    def test_deregistering_between_pages_skips_no_consumer(self):
        _, arn = self.new_stream()
        for name in ("a", "b", "c"):
            self.register(arn, name)
        first = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=1)
        self.assertEqual([c["ConsumerName"] for c in first["Consumers"]], ["a"])
        self.kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="a")
        rest, token = [], first["NextToken"]
        while token:
            page = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=1,
                                                      NextToken=token)
            rest += [c["ConsumerName"] for c in page["Consumers"]]
            token = page.get("NextToken")
        self.assertEqual(rest, ["b", "c"])

    def test_list_of_a_stream_without_consumers_is_empty(self):
        _, arn = self.new_stream()
        out = self.kinesis.list_stream_consumers(StreamARN=arn)
        self.assertEqual(out.get("Consumers"), [])
        self.assertNotIn("NextToken", out)

    def test_deregister_by_arn_and_by_stream_arn_and_name(self):
        stream, arn = self.new_stream()
        a = self.register(arn, "a")
        self.register(arn, "b")
        self.register(arn, "keep")
        self.assertEqual(self.consumer_count(stream), 3)

        out = self.kinesis.deregister_stream_consumer(ConsumerARN=a["ConsumerARN"])
        self.assertEqual(set(out) - {"ResponseMetadata"}, set())
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_consumer,
                               ConsumerARN=a["ConsumerARN"])
        self.assertEqual(self.consumer_count(stream), 2)

        self.kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="b")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_consumer,
                               StreamARN=arn, ConsumerName="b")
        self.assertEqual(self.consumer_count(stream), 1)
        listed = self.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
        self.assertEqual([c["ConsumerName"] for c in listed], ["keep"])

        # Gone means gone: a second deregistration finds nothing.
        self.assertClientError("ResourceNotFoundException",
                               self.kinesis1.deregister_stream_consumer,
                               ConsumerARN=a["ConsumerARN"])
        # The name is free again.
        again = self.register(arn, "a")
        self.assertEqual(again["ConsumerName"], "a")
        self.assertEqual(again["ConsumerStatus"], "ACTIVE")

    def test_duplicate_name_is_resource_in_use(self):
        stream, arn = self.new_stream()
        first = self.register(arn, "dup")
        self.assertClientError("ResourceInUseException", self.kinesis1.register_stream_consumer,
                               StreamARN=arn, ConsumerName="dup")
        self.assertEqual(self.consumer_count(stream), 1)
        self.assertEqual(self.kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="dup")[
            "ConsumerDescription"]["ConsumerARN"], first["ConsumerARN"])
        # The same name on another stream is a different consumer.
        other_stream, other_arn = self.new_stream()
        other = self.register(other_arn, "dup")
        self.assertRegex(other["ConsumerARN"], consumer_arn_re(other_stream, "dup"))

    def test_twenty_first_consumer_is_limit_exceeded(self):
        stream, arn = self.new_stream()
        for i in range(20):
            self.register(arn, f"c{i:02d}")
        self.assertEqual(self.consumer_count(stream), 20)
        self.assertClientError("LimitExceededException", self.kinesis1.register_stream_consumer,
                               StreamARN=arn, ConsumerName="c20")
        self.assertEqual(self.consumer_count(stream), 20)
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_consumer,
                               StreamARN=arn, ConsumerName="c20")
        # Freeing a slot makes room for one more.
        self.kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="c07")
        self.register(arn, "c20")
        self.assertEqual(self.consumer_count(stream), 20)
        self.assertClientError("LimitExceededException", self.kinesis1.register_stream_consumer,
                               StreamARN=arn, ConsumerName="c21")

    def test_unknown_consumer_is_resource_not_found(self):
        stream, arn = self.new_stream()
        real = self.register(arn, "real")
        created_s = int(real["ConsumerARN"].rsplit(":", 1)[1])
        missing = f"{arn}/consumer/ghost:{created_s}"
        for call in (self.kinesis1.describe_stream_consumer,
                     self.kinesis1.deregister_stream_consumer):
            with self.subTest(call=call.__name__):
                self.assertClientError("ResourceNotFoundException", call, ConsumerARN=missing)
                self.assertClientError("ResourceNotFoundException", call, StreamARN=arn,
                                       ConsumerName="ghost")
                # An ARN of an earlier registration of the same name (other creation time).
                self.assertClientError("ResourceNotFoundException", call,
                                       ConsumerARN=f"{arn}/consumer/real:{created_s - 1000}")
                # A stream that does not exist.
                gone = stream_arn(stream + "-none")
                self.assertClientError("ResourceNotFoundException", call,
                                       ConsumerARN=f"{gone}/consumer/real:{created_s}")
                self.assertClientError("ResourceNotFoundException", call, StreamARN=gone,
                                       ConsumerName="real")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.list_stream_consumers,
                               StreamARN=stream_arn(stream + "-none"))
        self.assertClientError("ResourceNotFoundException", self.kinesis1.register_stream_consumer,
                               StreamARN=stream_arn(stream + "-none"), ConsumerName="x")
        self.assertEqual(self.consumer_count(stream), 1)

    def test_consumer_arn_that_disagrees_is_invalid_argument(self):
        stream, arn = self.new_stream()
        _, other_arn = self.new_stream()
        a = self.register(arn, "a")
        self.register(arn, "b")
        self.register(other_arn, "a")
        for call in (self.kinesis1.describe_stream_consumer,
                     self.kinesis1.deregister_stream_consumer):
            with self.subTest(call=call.__name__):
                # Right stream, other consumer name.
                self.assertClientError("InvalidArgumentException", call,
                                       ConsumerARN=a["ConsumerARN"], ConsumerName="b")
                # Right consumer name, other stream (which has a consumer of that name too).
                self.assertClientError("InvalidArgumentException", call,
                                       ConsumerARN=a["ConsumerARN"], StreamARN=other_arn)
                self.assertClientError("InvalidArgumentException", call,
                                       ConsumerARN=a["ConsumerARN"], StreamARN=other_arn,
                                       ConsumerName="a")
                # Neither a consumer ARN nor both other members.
                self.assertClientError("InvalidArgumentException", call, StreamARN=arn)
                self.assertClientError("InvalidArgumentException", call, ConsumerName="a")
        # The failed deregistrations removed nothing.
        self.assertEqual(self.consumer_count(stream), 2)
        self.assertEqual(self.kinesis.describe_stream_consumer(ConsumerARN=a["ConsumerARN"])[
            "ConsumerDescription"]["ConsumerName"], "a")

    def test_consumer_count_follows_registrations(self):
        stream, arn = self.new_stream()
        self.assertEqual(self.consumer_count(stream), 0)
        self.register(arn, "one")
        self.assertEqual(self.consumer_count(stream), 1)
        two = self.register(arn, "two")
        self.assertEqual(self.consumer_count(stream), 2)
        self.kinesis.deregister_stream_consumer(ConsumerARN=two["ConsumerARN"])
        self.assertEqual(self.consumer_count(stream), 1)

    def test_delete_stream_with_consumers_needs_enforce_consumer_deletion(self):
        stream, arn = self.new_stream()
        c = self.register(arn, "holder")
        self.assertClientError("ResourceInUseException", self.kinesis1.delete_stream,
                               StreamName=stream)
        self.assertClientError("ResourceInUseException", self.kinesis1.delete_stream,
                               StreamName=stream, EnforceConsumerDeletion=False)
        # Nothing happened.
        s = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamStatus"], "ACTIVE")
        self.assertEqual(s["ConsumerCount"], 1)
        self.assertEqual(self.kinesis.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])[
            "ConsumerDescription"]["ConsumerStatus"], "ACTIVE")

        self.kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)

        def gone():
            try:
                self.kinesis1.describe_stream_summary(StreamName=stream)
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"] == "ResourceNotFoundException"
            return False
        wait_for(gone, 10, interval=0.05, what=f"stream {stream} deleted")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_consumer,
                               ConsumerARN=c["ConsumerARN"])
        # A new stream of the same name starts without consumers.
        self.create_stream(name=stream)
        self.assertEqual(self.consumer_count(stream), 0)
        self.assertEqual(self.kinesis.list_stream_consumers(StreamARN=arn).get("Consumers"), [])
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_consumer,
                               StreamARN=arn, ConsumerName="holder")

    def test_delete_stream_without_consumers_needs_no_enforce(self):
        stream, arn = self.new_stream()
        c = self.register(arn, "brief")
        self.kinesis.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
        self.kinesis.delete_stream(StreamName=stream)


class SubscribeTest(RiffledTestCase):
    daemon_scope = "class"

    @property
    def streaming(self):
        """A client for event streams: heartbeats come every 5 s, so 20 s never times out."""
        return self.riffled.client(read_timeout=20)

    def setup_stream(self, shards=1):
        stream = self.create_stream(shards=shards)
        return stream, stream_arn(stream)

    def consumer(self, arn, name=None):
        self._consumers = getattr(self, "_consumers", 0) + 1
        name = name or f"app-{self._consumers}"
        return self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=name)[
            "Consumer"]["ConsumerARN"]

    def subscribe(self, consumer_arn, shard, kind, **position):
        response = self.streaming.subscribe_to_shard(
            ConsumerARN=consumer_arn, ShardId=shard,
            StartingPosition=dict(Type=kind, **position))
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200)
        reader = EventReader(response)
        self.addCleanup(reader.close)
        return reader

    def put(self, stream, data, key="pk", **kw):
        out = self.kinesis.put_record(StreamName=stream, Data=data, PartitionKey=key, **kw)
        return {"SequenceNumber": out["SequenceNumber"], "Data": data, "PartitionKey": key,
                "ShardId": out["ShardId"]}

    def assertSameRecords(self, got, expected):
        self.assertEqual([(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in got],
                         [(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in expected])

    def assertEventShape(self, event):
        """Every event before shard end: a continuation number, no child shards, and the
        continuation is the last delivered record's number when records came."""
        self.assertIn("ContinuationSequenceNumber", event, event)
        self.assertRegex(event["ContinuationSequenceNumber"], r"^(0|[1-9]\d*)$")
        self.assertIsInstance(event["MillisBehindLatest"], int)
        self.assertGreaterEqual(event["MillisBehindLatest"], 0)
        self.assertFalse(event.get("ChildShards"), event)
        if event["Records"]:
            self.assertEqual(event["ContinuationSequenceNumber"],
                             event["Records"][-1]["SequenceNumber"], event)

    def test_records_already_in_the_shard_arrive_in_order(self):
        stream, arn = self.setup_stream()
        payloads = [(b"first", "k1"), (b"\x00\x01\xfe\xff binary", "k2"),
                    ("ünïcödé".encode(), "ключ"), (b"x" * 5000, "k1"), (b"last", "k9")]
        puts = [self.put(stream, d, k) for d, k in payloads]
        reader = self.subscribe(self.consumer(arn), shard_id(0), "TRIM_HORIZON")
        got = reader.records(len(puts), timeout=5)
        self.assertSameRecords(got, puts)
        for e in reader.events:
            self.assertEventShape(e)
        self.assertEqual(reader.events[-1]["ContinuationSequenceNumber"],
                         puts[-1]["SequenceNumber"])
        self.assertEqual(reader.events[-1]["MillisBehindLatest"], 0)
        # The same records GetRecords returns, arrival time included.
        it = self.kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        polled = self.kinesis.get_records(ShardIterator=it)["Records"]
        self.assertEqual(len(polled), len(got))
        for pushed, read in zip(got, polled):
            self.assertEqual(pushed["ApproximateArrivalTimestamp"],
                             read["ApproximateArrivalTimestamp"])
            self.assertEqual(pushed.get("EncryptionType"), read.get("EncryptionType"))
        # Strictly increasing numbers.
        seqs = [int(r["SequenceNumber"]) for r in got]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_record_put_while_subscribed_arrives_within_two_seconds(self):
        stream, arn = self.setup_stream()
        old = self.put(stream, b"before the subscription")
        reader = self.subscribe(self.consumer(arn), shard_id(0), "LATEST")
        time.sleep(0.3)  # the subscription is polling its shard
        for i in range(2):
            sent = time.monotonic()
            rec = self.put(stream, f"live-{i}".encode(), key=f"live-{i}")
            deadline = sent + 2.0
            while True:
                event, at = reader.next(max(0.01, deadline - time.monotonic()))
                self.assertIsNotNone(event, "the stream ended")
                self.assertEventShape(event)
                if event["Records"]:
                    break
            self.assertLess(at - sent, 2.0)
            self.assertSameRecords(event["Records"], [rec])
            self.assertNotEqual(event["Records"][0]["SequenceNumber"], old["SequenceNumber"])
            self.assertEqual(event["ContinuationSequenceNumber"], rec["SequenceNumber"])

    def test_a_second_subscription_within_five_seconds_is_resource_in_use(self):
        stream, arn = self.setup_stream()
        consumer = self.consumer(arn)
        self.subscribe(consumer, shard_id(0), "LATEST")
        self.assertClientError("ResourceInUseException", self.kinesis1.subscribe_to_shard,
                               ConsumerARN=consumer, ShardId=shard_id(0),
                               StartingPosition={"Type": "LATEST"})
        # Another consumer on the same shard is independent.
        self.subscribe(self.consumer(arn), shard_id(0), "LATEST")

    def test_deregistering_the_consumer_ends_its_subscription(self):
        stream, arn = self.setup_stream()
        consumer = self.consumer(arn)
        reader = self.subscribe(consumer, shard_id(0), "LATEST")
        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer)
        self.put(stream, b"after deregistration")
        deadline = time.monotonic() + 3
        with self.assertRaisesRegex(AssertionError, "ResourceNotFoundException"):
            while True:
                event, _ = reader.next(max(0.01, deadline - time.monotonic()))
                self.assertIsNotNone(event, "the stream ended without saying why")
                self.assertEqual(event["Records"], [], "a deregistered consumer got a record")

    def test_starting_positions(self):
        stream, arn = self.setup_stream()
        early = [self.put(stream, f"early-{i}".encode(), key=f"e{i}") for i in range(5)]
        it = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id(0), ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=early[-1]["SequenceNumber"])["ShardIterator"]
        last_early_at = self.kinesis.get_records(ShardIterator=it, Limit=1)["Records"][0][
            "ApproximateArrivalTimestamp"].timestamp()
        boundary = int(last_early_at) + 1
        while time.time() < boundary + 0.05:
            time.sleep(0.02)
        late = [self.put(stream, f"late-{i}".encode(), key=f"l{i}") for i in range(3)]
        everything = early + late

        cases = [
            ("TRIM_HORIZON", {}, everything),
            ("AT_SEQUENCE_NUMBER", {"SequenceNumber": early[2]["SequenceNumber"]},
             everything[2:]),
            ("AFTER_SEQUENCE_NUMBER", {"SequenceNumber": early[2]["SequenceNumber"]},
             everything[3:]),
            ("AT_TIMESTAMP",
             {"Timestamp": datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)},
             late),
            ("AT_TIMESTAMP",
             {"Timestamp": datetime.datetime.fromtimestamp(boundary - 3600,
                                                           datetime.timezone.utc)},
             everything),
        ]
        readers = [(kind, pos, expected, self.subscribe(self.consumer(arn), shard_id(0), kind,
                                                        **pos))
                   for kind, pos, expected in cases]
        latest = self.subscribe(self.consumer(arn), shard_id(0), "LATEST")
        for kind, pos, expected, reader in readers:
            with self.subTest(kind=kind, position=pos):
                got = reader.records(len(expected), timeout=5)
                self.assertSameRecords(got, expected)
                for e in reader.events:
                    self.assertEventShape(e)
        time.sleep(0.3)
        newest = self.put(stream, b"after LATEST", key="n")
        got = latest.records(1, timeout=3)
        self.assertSameRecords(got, [newest])
        # The others see it too, right after what they had.
        for kind, pos, expected, reader in readers:
            with self.subTest(kind=kind, position=pos, after="newest"):
                self.assertSameRecords(reader.records(1, timeout=3), [newest])

    def test_idle_heartbeat_and_continuation_before_any_record(self):
        # shard 0 stays empty; shard 1 already holds records. Both subscriptions start
        # before any record they will deliver, so their first event is a heartbeat.
        stream, arn = self.setup_stream(shards=2)
        old = [self.put(stream, f"old-{i}".encode(), ExplicitHashKey=str(MAX_HASH))
               for i in range(3)]
        self.assertEqual({r["ShardId"] for r in old}, {shard_id(1)})
        started = time.monotonic()
        empty = self.subscribe(self.consumer(arn), shard_id(0), "TRIM_HORIZON")
        behind = self.subscribe(self.consumer(arn), shard_id(1), "LATEST")
        continuation = {}
        for shard, reader in ((shard_id(0), empty), (shard_id(1), behind)):
            event, at = reader.next(timeout=max(0.01, started + 7.5 - time.monotonic()))
            self.assertIsNotNone(event, "the stream ended instead of a heartbeat")
            self.assertLessEqual(at - started, 7.5)
            self.assertEqual(event["Records"], [], f"{shard}: {event}")
            self.assertEqual(event["MillisBehindLatest"], 0, event)
            self.assertEventShape(event)
            continuation[shard] = event["ContinuationSequenceNumber"]

        # AFTER_SEQUENCE_NUMBER with the continuation number starts at the next record.
        iterators = {
            shard: self.kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=continuation[shard])["ShardIterator"]
            for shard in continuation}
        fresh = {shard_id(0): self.put(stream, b"new-0", ExplicitHashKey="0"),
                 shard_id(1): self.put(stream, b"new-1", ExplicitHashKey=str(MAX_HASH))}
        for shard, rec in fresh.items():
            with self.subTest(shard=shard):
                self.assertEqual(rec["ShardId"], shard)
                polled = self.kinesis.get_records(ShardIterator=iterators[shard])["Records"]
                self.assertTrue(polled, f"AFTER_SEQUENCE_NUMBER {continuation[shard]} read "
                                        f"nothing; the next record is {rec}")
                self.assertEqual(polled[0]["SequenceNumber"], rec["SequenceNumber"])
                self.assertLess(int(continuation[shard]), int(rec["SequenceNumber"]))
        self.assertGreaterEqual(int(continuation[shard_id(1)]), int(old[-1]["SequenceNumber"]))
        # And the subscriptions deliver them, with the continuation following.
        for shard, reader in ((shard_id(0), empty), (shard_id(1), behind)):
            with self.subTest(shard=shard, stage="pushed"):
                got = reader.records(1, timeout=3)
                self.assertSameRecords(got, [fresh[shard]])
                self.assertEqual(reader.events[-1]["ContinuationSequenceNumber"],
                                 fresh[shard]["SequenceNumber"])

    def test_split_ends_the_subscription_with_child_shards(self):
        stream, arn = self.setup_stream()
        before = [self.put(stream, f"r{i}".encode(), key=f"k{i}") for i in range(3)]
        reader = self.subscribe(self.consumer(arn), shard_id(0), "TRIM_HORIZON")
        self.assertSameRecords(reader.records(3, timeout=5), before)
        last = self.put(stream, b"last before the split", key="z")
        self.kinesis.split_shard(StreamName=stream, ShardToSplit=shard_id(0),
                                 NewStartingHashKey=str(HALF_HASH))
        self.wait_active(stream)
        after = self.put(stream, b"goes to a child", key="child")
        self.assertIn(after["ShardId"], (shard_id(1), shard_id(2)))

        children = [
            {"ShardId": shard_id(1), "ParentShards": [shard_id(0)],
             "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(HALF_HASH - 1)}},
            {"ShardId": shard_id(2), "ParentShards": [shard_id(0)],
             "HashKeyRange": {"StartingHashKey": str(HALF_HASH), "EndingHashKey": str(MAX_HASH)}},
        ]
        final = self.read_to_shard_end(reader, timeout=5)
        delivered = [r for e in reader.events for r in e["Records"]]
        self.assertSameRecords(delivered, before + [last])
        self.assertNotIn("ContinuationSequenceNumber", final, final)
        self.assertEqual(sorted(final["ChildShards"], key=lambda c: c["ShardId"]), children)
        end, _ = reader.next(timeout=3)
        self.assertIsNone(end, "the body must end after the shard-end event")

        # A subscription that starts on the closed shard reads it all, then ends the same way.
        late = self.subscribe(self.consumer(arn), shard_id(0), "TRIM_HORIZON")
        final = self.read_to_shard_end(late, timeout=5)
        self.assertSameRecords([r for e in late.events for r in e["Records"]], before + [last])
        self.assertNotIn("ContinuationSequenceNumber", final, final)
        self.assertEqual(sorted(final["ChildShards"], key=lambda c: c["ShardId"]), children)
        end, _ = late.next(timeout=3)
        self.assertIsNone(end, "the body must end after the shard-end event")
        # The children can be subscribed to and hold the record written after the split.
        child = self.subscribe(self.consumer(arn), after["ShardId"], "TRIM_HORIZON")
        self.assertSameRecords(child.records(1, timeout=5), [after])

    def read_to_shard_end(self, reader, timeout):
        """Reads events until one without ContinuationSequenceNumber; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            event, _ = reader.next(max(0.01, deadline - time.monotonic()))
            self.assertIsNotNone(event, f"the body ended before a shard-end event: "
                                        f"{reader.events}")
            if "ContinuationSequenceNumber" not in event:
                return event
            self.assertEventShape(event)

    def test_errors_before_streaming_are_ordinary_client_errors(self):
        stream, arn = self.setup_stream()
        consumer_arn = self.consumer(arn, "errs")
        created_s = consumer_arn.rsplit(":", 1)[1]
        sub = self.riffled.client(retries=False, read_timeout=20).subscribe_to_shard
        cases = [
            ("ResourceNotFoundException",
             dict(ConsumerARN=f"{arn}/consumer/nobody:{created_s}", ShardId=shard_id(0),
                  StartingPosition={"Type": "LATEST"})),
            ("ResourceNotFoundException",
             dict(ConsumerARN=f"{stream_arn(stream + '-none')}/consumer/errs:{created_s}",
                  ShardId=shard_id(0), StartingPosition={"Type": "LATEST"})),
            ("ResourceNotFoundException",
             dict(ConsumerARN=consumer_arn, ShardId=shard_id(9),
                  StartingPosition={"Type": "LATEST"})),
            ("InvalidArgumentException",
             dict(ConsumerARN=consumer_arn, ShardId=shard_id(0),
                  StartingPosition={"Type": "AT_SEQUENCE_NUMBER"})),
            ("InvalidArgumentException",
             dict(ConsumerARN=consumer_arn, ShardId=shard_id(0),
                  StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER"})),
            ("InvalidArgumentException",
             dict(ConsumerARN=consumer_arn, ShardId=shard_id(0),
                  StartingPosition={"Type": "AT_TIMESTAMP"})),
        ]
        for code, kwargs in cases:
            with self.subTest(code=code, request=kwargs):
                e = self.assertClientError(code, sub, **kwargs)
                self.assertTrue(e.response["Error"].get("Message"), e.response)
        # The consumer is fine: a correct request streams.
        rec = self.put(stream, b"still works")
        reader = self.subscribe(consumer_arn, shard_id(0), "TRIM_HORIZON")
        self.assertSameRecords(reader.records(1, timeout=5), [rec])


def read_message(resp):
    """Reads one event-stream message from a response; checks both CRCs; returns
    (headers, payload)."""
    prelude = resp.read(12)
    if len(prelude) != 12:
        raise AssertionError(f"short prelude {prelude!r}")
    total, headers_len, prelude_crc = struct.unpack(">III", prelude)
    if zlib.crc32(prelude[:8]) != prelude_crc:
        raise AssertionError(f"prelude CRC {prelude_crc:#x} != {zlib.crc32(prelude[:8]):#x}")
    if not 16 + headers_len <= total <= 16 * 1024 * 1024:
        raise AssertionError(f"bad lengths: total {total}, headers {headers_len}")
    rest = resp.read(total - 12)
    if len(rest) != total - 12:
        raise AssertionError(f"message cut short: {len(rest)} of {total - 12} bytes")
    message = prelude + rest
    (message_crc,) = struct.unpack(">I", message[-4:])
    if zlib.crc32(message[:-4]) != message_crc:
        raise AssertionError(f"message CRC {message_crc:#x} != {zlib.crc32(message[:-4]):#x}")
    block = message[12:12 + headers_len]
    headers = {}
    i = 0
    while i < len(block):
        n = block[i]
        name = block[i + 1:i + 1 + n].decode()
        i += 1 + n
        kind = block[i]
        if kind != 7:
            raise AssertionError(f"header {name!r} has type {kind}, not string (7)")
        (length,) = struct.unpack(">H", block[i + 1:i + 3])
        value = block[i + 3:i + 3 + length].decode()
        i += 3 + length
        if name in headers:
            raise AssertionError(f"duplicate header {name!r}")
        headers[name] = value
    if i != len(block):
        raise AssertionError(f"header block overruns: {i} != {len(block)}")
    return headers, message[12 + headers_len:-4]


class AppendWakeUpTest(RiffledTestCase):
    """A subscription waiting for records is woken by the append to its shard itself: nothing
    polls and the next heartbeat is 5 s away, so only the wake-up can deliver a record within
    2 s."""
    daemon_scope = "class"

    streaming = SubscribeTest.streaming
    setup_stream = SubscribeTest.setup_stream
    consumer = SubscribeTest.consumer
    subscribe = SubscribeTest.subscribe
    put = SubscribeTest.put
    assertSameRecords = SubscribeTest.assertSameRecords
    assertEventShape = SubscribeTest.assertEventShape
    test_record_put_while_subscribed_arrives_within_two_seconds = (
        SubscribeTest.test_record_put_while_subscribed_arrives_within_two_seconds)


class RawEventStreamTest(RiffledTestCase):
    daemon_scope = "class"

    def test_wire_format_of_the_event_stream(self):
        stream = self.create_stream()
        arn = stream_arn(stream)
        consumer_arn = self.kinesis.register_stream_consumer(
            StreamARN=arn, ConsumerName="raw")["Consumer"]["ConsumerARN"]
        rec = self.kinesis.put_record(StreamName=stream, Data=b"\x00raw\xff", PartitionKey="p")
        target = TARGET_PREFIX + "SubscribeToShard"
        body = json.dumps({"ConsumerARN": consumer_arn, "ShardId": shard_id(0),
                           "StartingPosition": {"Type": "TRIM_HORIZON"}}).encode()
        headers = auth_headers(self.riffled.host, target, body)
        conn = self.riffled.connection(timeout=10)
        self.addCleanup(conn.close)
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), EVENTSTREAM_CT)
        self.assertEqual(resp.getheader("Transfer-Encoding", "").lower(), "chunked")
        self.assertTrue(resp.getheader("x-amzn-RequestId"))

        h, payload = read_message(resp)
        self.assertEqual(h, {":message-type": "event", ":event-type": "initial-response",
                             ":content-type": "application/json"})
        self.assertEqual(json.loads(payload), {})

        h, payload = read_message(resp)
        self.assertEqual(h.get(":message-type"), "event", h)
        self.assertEqual(h.get(":event-type"), "SubscribeToShardEvent", h)
        event = json.loads(payload)
        self.assertEqual(len(event["Records"]), 1, event)
        self.assertEqual(event["Records"][0]["SequenceNumber"], rec["SequenceNumber"])
        self.assertEqual(event["Records"][0]["Data"], "AHJhd/8=")
        self.assertEqual(event["Records"][0]["PartitionKey"], "p")
        self.assertIsInstance(event["Records"][0]["ApproximateArrivalTimestamp"], (int, float))
        self.assertEqual(event["ContinuationSequenceNumber"], rec["SequenceNumber"])
        self.assertEqual(event["MillisBehindLatest"], 0)

    def test_error_before_streaming_is_a_json_error_response(self):
        stream = self.create_stream()
        r = self.riffled.raw("SubscribeToShard", {
            "ConsumerARN": f"{stream_arn(stream)}/consumer/nobody:1700000000",
            "ShardId": shard_id(0), "StartingPosition": {"Type": "LATEST"}})
        self.assertRawError(r, "ResourceNotFoundException")


class ShutdownWithSubscriptionTest(RiffledTestCase):
    """tearDown sends SIGTERM while the subscriptions below are open and fails unless
    riffled exits 0 (within the harness's deadline)."""

    def test_sigterm_while_subscribed_exits_zero(self):
        stream = self.create_stream()
        arn = stream_arn(stream)
        consumers = [self.kinesis.register_stream_consumer(
            StreamARN=arn, ConsumerName=f"open-{i}")["Consumer"]["ConsumerARN"] for i in range(2)]
        rec = self.kinesis.put_record(StreamName=stream, Data=b"d", PartitionKey="p")
        # One boto3 subscription and one raw one, both past their first records event.
        response = self.riffled.client(read_timeout=20).subscribe_to_shard(
            ConsumerARN=consumers[0], ShardId=shard_id(0),
            StartingPosition={"Type": "TRIM_HORIZON"})
        reader = EventReader(response)
        self.addCleanup(reader.close)  # cleanups run after tearDown's SIGTERM
        event, _ = reader.next(timeout=5)
        self.assertEqual([r["SequenceNumber"] for r in event["Records"]], [rec["SequenceNumber"]])

        target = TARGET_PREFIX + "SubscribeToShard"
        body = json.dumps({"ConsumerARN": consumers[1], "ShardId": shard_id(0),
                           "StartingPosition": {"Type": "TRIM_HORIZON"}}).encode()
        conn = self.riffled.connection(timeout=10)
        self.addCleanup(conn.close)
        conn.request("POST", "/", body=body,
                     headers=auth_headers(self.riffled.host, target, body))
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(read_message(resp)[0].get(":event-type"), "initial-response")
        self.assertEqual(read_message(resp)[0].get(":event-type"), "SubscribeToShardEvent")
        self.assertTrue(self.riffled.alive())


if __name__ == "__main__":
    unittest.main()
