"""riffled's Prometheus metrics, scraped over HTTP from a real daemon.

Each test starts riffled with a real --metrics-port, drives traffic through the
Kinesis HTTP API with boto3, scrapes http://127.0.0.1:<port>/metrics and checks
exact counter values: incoming records and bytes, GetRecords records and bytes,
calls by operation and outcome, shard-level series under enhanced monitoring,
and the provisioned-throughput counters of a throttled PROVISIONED stream.
If `promtool` is installed the scrape is also run through `promtool check metrics`.
"""

import os
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from harness import (MetricsRiffled, RiffledTestCase, hash_key, initial_ranges, wait_for,
                     shard_for, shard_id)

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def unescape(value):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_labels(text):
    labels = {}
    pos = 0
    text = text or ""
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m or m.end() == pos:
            raise AssertionError(f"cannot parse labels {text!r} at {pos}")
        labels[m.group(1)] = unescape(m.group(2))
        pos = m.end()
    return labels


def wait_until_every_thread_is_stopped(pid, timeout_s=10):
    """Waits until every thread of `pid` is in the stopped state ('T' in /proc)."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:
                continue  # the thread ended meanwhile
        if states and all(state == "T" for state in states):
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"process {pid} did not stop within {timeout_s}s: {states}")
        time.sleep(0.01)


class Scrape:
    """The samples of one scrape: (name, frozenset of labels) -> value."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if not m:
                raise AssertionError(f"unparsable exposition line: {line!r}")
            key = (m.group(1), frozenset(parse_labels(m.group(2)).items()))
            if key in self.samples:
                raise AssertionError(f"duplicate sample: {line!r}")
            self.samples[key] = float(m.group(3))

    def get(self, name, **labels):
        """The value of exactly this series, or None when it is absent."""
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name, **labels):
        """[(labels dict, value)] of every series of `name` whose labels include `labels`."""
        want = set(labels.items())
        return [(dict(k[1]), v) for k, v in self.samples.items()
                if k[0] == name and want <= k[1]]


class MetricsTestCase(RiffledTestCase):

    def setUp(self):
        unittest.TestCase.setUp(self)
        self._names = 0
        # The port was free a moment ago; another process may grab it before
        # riffled binds it, so try a few.
        for attempt in range(5):
            self.riffled = MetricsRiffled(self.riffled_args)
            try:
                self.riffled.start()
                break
            except AssertionError:
                log = self.riffled.log_tail()
                self.riffled.cleanup()
                if attempt == 4 or "for metrics" not in log:
                    raise AssertionError("riffled did not start\n" + log)
        self.assertEqual(self.riffled.ports["metrics"], self.riffled.metrics_port,
                         f"ports file: {self.riffled.ports}")

    def scrape(self):
        url = f"http://127.0.0.1:{self.riffled.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as resp:
            self.assertEqual(resp.status, 200)
            ctype = resp.headers.get("Content-Type", "")
            self.assertTrue(ctype.startswith("text/plain"), f"Content-Type {ctype!r}")
            return Scrape(resp.read().decode("utf-8"))

    def assertMetric(self, scrape, name, expected, **labels):
        got = scrape.get(name, **labels)
        self.assertEqual(got, expected,
                         f"{name}{labels}: want {expected}, got {got}; series of {name}: "
                         f"{scrape.series(name)}")

    def get_records_counted(self, stream, shard, client=None, limit=7):
        """Reads a shard to its tip; returns (records, number of GetRecords calls)."""
        client = client or self.kinesis1
        it = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records, calls = [], 0
        while True:
            out = client.get_records(ShardIterator=it, Limit=limit)
            calls += 1
            records.extend(out["Records"])
            it = out["NextShardIterator"]
            if not out["Records"] and out["MillisBehindLatest"] == 0:
                return records, calls
            self.assertLess(calls, 1000)


class PrometheusMetricsTest(MetricsTestCase):

    def test_counts_of_puts_and_gets(self):
        stream = self.create_stream(on_demand=True)
        shards = [s["ShardId"] for s in self.kinesis.list_shards(StreamName=stream)["Shards"]]
        k = self.kinesis1
        written = []
        put_record_calls = 0
        for i in range(13):
            key, data = f"key-{i}", (b"r" * (i * 37 + 1))
            k.put_record(StreamName=stream, PartitionKey=key, Data=data)
            put_record_calls += 1
            written.append((key, data))
        put_records_calls = 0
        for batch in range(3):
            entries = [{"PartitionKey": f"batch{batch}-{j}", "Data": bytes([j]) * (j * 11)}
                       for j in range(9)]
            out = k.put_records(StreamName=stream, Records=entries)
            self.assertEqual(out["FailedRecordCount"], 0, out)
            put_records_calls += 1
            written.extend((e["PartitionKey"], e["Data"]) for e in entries)
        n = len(written)
        n_bytes = sum(len(key.encode()) + len(data) for key, data in written)

        read, get_calls = [], 0
        for shard in shards:
            records, calls = self.get_records_counted(stream, shard)
            read.extend(records)
            get_calls += calls
        self.assertEqual(len(read), n)

        # A call on a stream that does not exist is counted under its error outcome.
        missing = self.unique_name("missing")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            k.put_record(StreamName=missing, PartitionKey="k", Data=b"x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")

        m = self.scrape()
        self.assertMetric(m, "riffle_incoming_records_total", n, stream=stream)
        self.assertMetric(m, "riffle_incoming_bytes_total", n_bytes, stream=stream)
        self.assertMetric(m, "riffle_get_records_records_total", n, stream=stream)
        self.assertMetric(m, "riffle_get_records_bytes_total", n_bytes, stream=stream)
        self.assertMetric(m, "riffle_get_records_iterator_age_milliseconds", 0, stream=stream)
        self.assertMetric(m, "riffle_write_provisioned_throughput_exceeded_total", 0,
                          stream=stream)
        self.assertMetric(m, "riffle_read_provisioned_throughput_exceeded_total", 0,
                          stream=stream)
        for op, calls in [("PutRecord", put_record_calls), ("PutRecords", put_records_calls),
                          ("GetRecords", get_calls), ("GetShardIterator", len(shards))]:
            self.assertMetric(m, "riffle_operation_calls_total", calls, operation=op,
                              stream=stream, outcome="success")
            self.assertMetric(m, "riffle_operation_latency_seconds_count", calls, operation=op,
                              stream=stream)
            self.assertMetric(m, "riffle_operation_latency_seconds_bucket", calls, operation=op,
                              stream=stream, le="+Inf")
            # No error outcomes for this stream.
            outcomes = {lbl["outcome"] for lbl, _ in m.series("riffle_operation_calls_total",
                                                                operation=op, stream=stream)}
            self.assertEqual(outcomes, {"success"})
        # Every record of the PutRecords calls succeeded; each call's bytes are counted once.
        batch_bytes = sum(len(key.encode()) + len(data) for key, data in written[13:])
        self.assertMetric(m, "riffle_put_records_records_total", 27, stream=stream,
                          outcome="successful")
        for outcome in ("throttled", "failed"):
            self.assertMetric(m, "riffle_put_records_records_total", 0, stream=stream,
                              outcome=outcome)
        self.assertMetric(m, "riffle_put_records_bytes_total", batch_bytes, stream=stream)
        self.assertMetric(m, "riffle_put_record_bytes_total", n_bytes - batch_bytes,
                          stream=stream)
        self.assertMetric(m, "riffle_operation_calls_total", len(shards),
                          operation="GetShardIterator", stream=stream, outcome="success")
        # A made-up stream name adds no series: its calls count under stream="".
        self.assertMetric(m, "riffle_operation_calls_total", 1, operation="PutRecord",
                          stream="", outcome="ResourceNotFoundException")
        self.assertEqual([key for key in m.samples if ("stream", missing) in key[1]], [])
        # Without enhanced monitoring there is no shard label anywhere.
        for (name, labels), _ in m.samples.items():
            if name.startswith("riffle_"):
                self.assertNotIn("shard", dict(labels), f"{name}{dict(labels)}")

        # Counters only grow: more traffic moves them by exactly that much.
        k.put_record(StreamName=stream, PartitionKey="one-more", Data=b"12345")
        m2 = self.scrape()
        self.assertMetric(m2, "riffle_incoming_records_total", n + 1, stream=stream)
        self.assertMetric(m2, "riffle_incoming_bytes_total", n_bytes + 13, stream=stream)
        self.assertMetric(m2, "riffle_operation_calls_total", put_record_calls + 1,
                          operation="PutRecord", stream=stream, outcome="success")

    def test_enhanced_monitoring_adds_shard_series(self):
        stream = self.create_stream(shards=3)
        plain = self.create_stream(shards=3)
        out = self.kinesis.enable_enhanced_monitoring(StreamName=stream,
                                                      ShardLevelMetrics=["ALL"])
        self.assertIn("IncomingRecords", out["DesiredShardLevelMetrics"])
        ranges = initial_ranges(3)
        per_shard = {shard_id(i): [0, 0] for i in range(3)}
        for i in range(30):
            key, data = f"em-{i}", b"d" * (i + 1)
            for s in (stream, plain):
                r = self.kinesis1.put_record(StreamName=s, PartitionKey=key, Data=data)
                self.assertEqual(r["ShardId"], shard_id(shard_for(hash_key(key), ranges)))
            per_shard[r["ShardId"]][0] += 1
            per_shard[r["ShardId"]][1] += len(key) + len(data)
        for shard in per_shard:
            # Two calls per shard stay within the 5 calls a second of a PROVISIONED shard.
            records, calls = self.get_records_counted(stream, shard, limit=10000)
            self.assertEqual((len(records), calls), (per_shard[shard][0], 2))

        m = self.scrape()
        total_records = sum(c for c, _ in per_shard.values())
        total_bytes = sum(b for _, b in per_shard.values())
        for shard, (count, size) in per_shard.items():
            with self.subTest(shard=shard):
                self.assertGreater(count, 0, "the keys should cover every shard")
                self.assertMetric(m, "riffle_incoming_records_total", count, stream=stream,
                                  shard=shard)
                self.assertMetric(m, "riffle_incoming_bytes_total", size, stream=stream,
                                  shard=shard)
                self.assertMetric(m, "riffle_get_records_records_total", count, stream=stream,
                                  shard=shard)
                self.assertMetric(m, "riffle_get_records_bytes_total", size, stream=stream,
                                  shard=shard)
        # The stream-level series still count everything.
        self.assertMetric(m, "riffle_incoming_records_total", total_records, stream=stream)
        self.assertMetric(m, "riffle_incoming_bytes_total", total_bytes, stream=stream)
        self.assertMetric(m, "riffle_get_records_records_total", total_records, stream=stream)
        self.assertEqual(
            sorted(lbl["shard"] for lbl, _ in m.series("riffle_incoming_records_total",
                                                        stream=stream) if "shard" in lbl),
            sorted(per_shard))
        # The stream without enhanced monitoring has no shard series.
        self.assertMetric(m, "riffle_incoming_records_total", total_records, stream=plain)
        self.assertEqual([lbl for lbl, _ in m.series("riffle_incoming_records_total",
                                                      stream=plain) if "shard" in lbl], [])

        # After disabling it, shard series stop moving while the stream series go on.
        self.kinesis.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
        self.kinesis1.put_record(StreamName=stream, PartitionKey="em-0", Data=b"z")
        m2 = self.scrape()
        self.assertMetric(m2, "riffle_incoming_records_total", total_records + 1, stream=stream)
        for shard, (count, _) in per_shard.items():
            self.assertMetric(m2, "riffle_incoming_records_total", count, stream=stream,
                              shard=shard)

    def test_read_throttling_is_counted(self):
        stream = self.create_stream(shards=1)
        self.kinesis1.put_record(StreamName=stream, PartitionKey="k", Data=b"payload")
        it = self.kinesis1.get_shard_iterator(StreamName=stream, ShardId=shard_id(0),
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        ok = throttled = 0
        # A PROVISIONED shard allows 5 GetRecords calls a second.
        deadline = time.monotonic() + 20
        while throttled < 5 and time.monotonic() < deadline:
            try:
                self.kinesis1.get_records(ShardIterator=it)
                ok += 1
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"],
                                 "ProvisionedThroughputExceededException", e.response)
                throttled += 1
        self.assertGreaterEqual(throttled, 5, f"{ok} calls went through and none was throttled")

        m = self.scrape()
        self.assertMetric(m, "riffle_read_provisioned_throughput_exceeded_total", throttled,
                          stream=stream)
        self.assertMetric(m, "riffle_write_provisioned_throughput_exceeded_total", 0,
                          stream=stream)
        self.assertMetric(m, "riffle_operation_calls_total", throttled, operation="GetRecords",
                          stream=stream, outcome="ProvisionedThroughputExceededException")
        self.assertMetric(m, "riffle_operation_calls_total", ok, operation="GetRecords",
                          stream=stream, outcome="success")
        self.assertMetric(m, "riffle_operation_latency_seconds_count", ok + throttled,
                          operation="GetRecords", stream=stream)
        self.assertMetric(m, "riffle_get_records_records_total", ok, stream=stream)

    def test_write_throttling_is_counted_per_record(self):
        stream = self.create_stream(shards=1)
        # A PROVISIONED shard takes 1000 records a second: three batches of 500
        # in quick succession go over it.
        failed = succeeded = 0
        for b in range(3):
            entries = [{"PartitionKey": f"w{b}-{i}", "Data": b"v"} for i in range(500)]
            out = self.kinesis1.put_records(StreamName=stream, Records=entries)
            for r in out["Records"]:
                if "ErrorCode" in r:
                    self.assertEqual(r["ErrorCode"], "ProvisionedThroughputExceededException", r)
                    failed += 1
                else:
                    succeeded += 1
            self.assertEqual(out.get("FailedRecordCount", 0), sum(
                1 for r in out["Records"] if "ErrorCode" in r))
        self.assertGreater(failed, 0, "1500 records in one burst must exceed the shard quota")
        m = self.scrape()
        self.assertMetric(m, "riffle_write_provisioned_throughput_exceeded_total", failed,
                          stream=stream)
        self.assertMetric(m, "riffle_incoming_records_total", succeeded, stream=stream)
        # A partly throttled PutRecords call is still a successful call.
        self.assertMetric(m, "riffle_operation_calls_total", 3, operation="PutRecords",
                          stream=stream, outcome="success")

    def test_iterator_age_grows_while_a_reader_is_stopped(self):
        stream = self.create_stream(shards=2)
        k = self.kinesis1
        first = k.put_record(StreamName=stream, PartitionKey="a", Data=b"1", ExplicitHashKey="0")
        k.put_record(StreamName=stream, PartitionKey="a", Data=b"2", ExplicitHashKey="0")
        put_at = time.time()
        # A reader of shard 0 reads one record and stops; the reader of shard 1 is current.
        it0 = k.get_shard_iterator(StreamName=stream, ShardId=shard_id(0),
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out = k.get_records(ShardIterator=it0, Limit=1)
        self.assertEqual(out["Records"][0]["SequenceNumber"], first["SequenceNumber"])
        self.get_records_counted(stream, shard_id(1))
        time.sleep(1.5)
        age = self.scrape().get("riffle_get_records_iterator_age_milliseconds", stream=stream)
        self.assertIsNotNone(age)
        self.assertGreaterEqual(age, 1400)
        self.assertLessEqual(age, (time.time() - put_at) * 1000 + 1000)
        # Nobody reads, and the age keeps growing.
        time.sleep(1.0)
        m = self.scrape()
        later = m.get("riffle_get_records_iterator_age_milliseconds", stream=stream)
        self.assertGreaterEqual(later, age + 900)
        # The two readers (one per shard) hold valid iterators; the client holds a connection.
        self.assertMetric(m, "riffle_open_iterators", 2, stream=stream)
        self.assertGreaterEqual(m.get("riffle_open_connections", api="kinesis"), 1)
        self.assertIsNotNone(m.get("riffle_grpc_calls_in_flight"))
        # Once the reader reads on to the end, the stream has no lag.
        k.get_records(ShardIterator=out["NextShardIterator"])
        self.assertMetric(self.scrape(), "riffle_get_records_iterator_age_milliseconds", 0,
                          stream=stream)

    def test_registered_consumer_lag_and_subscription_series(self):
        stream = self.create_stream()
        arn = self.kinesis.describe_stream_summary(
            StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
        consumer = self.kinesis.register_stream_consumer(
            StreamARN=arn, ConsumerName="lagging")["Consumer"]
        for _ in range(50):
            status = self.kinesis.describe_stream_consumer(
                ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"]
            if status == "ACTIVE":
                break
            time.sleep(0.1)
        sent = [self.kinesis1.put_record(StreamName=stream, PartitionKey="k", Data=b"x" * 10)
                for _ in range(3)]
        response = self.riffled.client(read_timeout=20).subscribe_to_shard(
            ConsumerARN=consumer["ConsumerARN"], ShardId=shard_id(0),
            StartingPosition={"Type": "TRIM_HORIZON"})
        events = response["EventStream"]
        got = []
        for event in events:
            got.extend(event["SubscribeToShardEvent"]["Records"])
            if len(got) >= len(sent):
                break
        events.close()
        self.assertEqual(len(got), 3)
        # The server learns of the close only when a later event fails to go out: put records
        # one at a time until one is no longer sent.
        put = len(sent)
        for _ in range(20):
            before = self.scrape().get("riffle_subscribe_to_shard_event_records_total",
                                       stream=stream)
            self.kinesis1.put_record(StreamName=stream, PartitionKey="k", Data=b"y")
            put += 1
            time.sleep(0.3)
            if self.scrape().get("riffle_subscribe_to_shard_event_records_total",
                                 stream=stream) == before:
                break
        # Four more that nobody sends.
        for _ in range(4):
            self.kinesis1.put_record(StreamName=stream, PartitionKey="k", Data=b"y")
            put += 1
        time.sleep(0.5)
        m = self.scrape()
        sent_count = m.get("riffle_subscribe_to_shard_event_records_total", stream=stream)
        self.assertGreaterEqual(sent_count, 3)
        self.assertMetric(m, "riffle_consumer_lag_records", put - sent_count, stream=stream,
                          consumer="lagging")
        self.assertGreaterEqual(put - sent_count, 5)
        self.assertGreaterEqual(m.get("riffle_consumer_lag_milliseconds", stream=stream,
                                      consumer="lagging"), 400)
        self.assertMetric(m, "riffle_subscribe_to_shard_event_bytes_total",
                          3 * 11 + (sent_count - 3) * 2, stream=stream)
        self.assertGreaterEqual(m.get("riffle_subscribe_to_shard_events_total", stream=stream), 1)
        self.assertMetric(m, "riffle_operation_calls_total", 1, operation="SubscribeToShard",
                          stream=stream, outcome="success")
        # Subscription reads are not GetRecords reads.
        self.assertMetric(m, "riffle_get_records_records_total", 0, stream=stream)
        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
        self.assertIsNone(self.scrape().get("riffle_consumer_lag_records", stream=stream,
                                            consumer="lagging"))

    def test_a_deleted_stream_leaves_no_series(self):
        stream = self.create_stream()
        self.kinesis1.put_record(StreamName=stream, PartitionKey="k", Data=b"x")
        self.get_records_counted(stream, shard_id(0))
        self.assertMetric(self.scrape(), "riffle_incoming_records_total", 1, stream=stream)
        self.kinesis.delete_stream(StreamName=stream)
        deadline = time.monotonic() + 10
        while True:
            left = [key for key in self.scrape().samples if ("stream", stream) in key[1]]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(left, [])

    def test_healthz_and_readyz_answer_on_the_metrics_port(self):
        """/healthz is 200 while the process answers; /readyz is 200 once riffled takes
        requests (catalog loaded, ports open, data dir writable); other paths are 404."""
        base = f"http://127.0.0.1:{self.riffled.metrics_port}"
        for path, body in (("/healthz", b"ok\n"), ("/readyz", b"ready\n")):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                self.assertEqual(response.status, 200, path)
                self.assertEqual(response.read(), body, path)
        with self.assertRaises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/nothing-here", timeout=10)
        self.assertEqual(missing.exception.code, 404)
        self.riffled.proc.send_signal(signal.SIGSTOP)  # a stopped process answers nothing
        try:
            # The stop is asynchronous: each thread stops when the kernel next schedules it,
            # which on a loaded machine can be after the probe's request was answered.
            wait_until_every_thread_is_stopped(self.riffled.proc.pid)
            with self.assertRaises(OSError):
                urllib.request.urlopen(base + "/healthz", timeout=1)
        finally:
            self.riffled.proc.send_signal(signal.SIGCONT)

    def test_storage_and_process_health(self):
        """Commit times count every write, the WAL and a stream's table files show their
        bytes (once the shard's full memtable is flushed), a deleted stream's series goes, and
        the process series describe this process."""
        stream = self.create_stream(shards=2)
        before = self.scrape().get("riffle_commit_duration_seconds_count") or 0
        for i in range(20):
            self.kinesis1.put_record(StreamName=stream, PartitionKey="k", Data=os.urandom(10000))
        m = self.scrape()
        self.assertGreaterEqual(m.get("riffle_commit_duration_seconds_count") - before, 20)
        self.assertGreater(m.get("riffle_commit_duration_seconds_sum"), 0)
        buckets = m.series("riffle_commit_duration_seconds_bucket")
        self.assertEqual(max(v for _, v in buckets),
                         m.get("riffle_commit_duration_seconds_count"))
        self.assertGreaterEqual(m.get("riffle_wal_bytes"), 200000)
        self.assertEqual(m.get("riffle_rocksdb_write_stopped"), 0)
        self.assertIsNotNone(m.get("riffle_rocksdb_pending_compaction_bytes"))
        self.assertIsNotNone(m.get("riffle_stream_disk_bytes", stream=stream))
        self.assertEqual(m.get("riffle_build_info", version=m.series("riffle_build_info")[0][0]
                               ["version"]), 1)
        self.assertGreater(m.get("process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(m.get("process_open_fds"), 3)
        self.assertGreater(m.get("process_max_fds"), m.get("process_open_fds"))
        self.assertGreater(m.get("process_threads"), 1)
        self.assertAlmostEqual(m.get("process_start_time_seconds"), time.time(), delta=600)

        # 20 MB more fill the records' 16 MiB memtable, which RocksDB then flushes to a table;
        # a shard takes 1 MB/s, so they go to both.
        for i in range(20):
            while True:
                try:
                    self.kinesis1.put_record(StreamName=stream, PartitionKey="k",
                                             ExplicitHashKey=str((i % 2) * 2**127),
                                             Data=os.urandom(1_000_000))
                    break
                except self.kinesis1.exceptions.ProvisionedThroughputExceededException:
                    time.sleep(0.25)
        wait_for(lambda: (self.scrape().get("riffle_stream_disk_bytes", stream=stream) or 0)
                 >= 4 * 1024 * 1024, timeout=30, what="the stream's table files on disk")
        self.kinesis.delete_stream(StreamName=stream)
        self.assertEqual(self.scrape().series("riffle_stream_disk_bytes", stream=stream), [])

    def test_promtool_accepts_the_scrape(self):
        """`promtool check metrics` parses a scrape with every kind of series in it."""
        promtool = shutil.which("promtool")
        stream = self.create_stream(shards=2)
        self.kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
        for i in range(10):
            self.kinesis1.put_record(StreamName=stream, PartitionKey=f"p{i}", Data=b"x" * i)
        self.get_records_counted(stream, shard_id(0), limit=10000)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.kinesis1.put_record(StreamName="no-such-stream", PartitionKey="k", Data=b"x")
        text = self.scrape().text
        self.assertIn('shard="shardId-000000000000"', text)
        if not promtool:
            self.skipTest("promtool is not installed (Debian package `prometheus`), so the "
                          "exposition format check did not run")
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=60)
        # Exit 1 is a text that does not parse. Exit 3 is lint advice only (such as
        # "use base unit seconds" for the Kinesis-style iterator age in milliseconds).
        self.assertIn(p.returncode, (0, 3),
                      f"promtool check metrics exited {p.returncode}\n"
                      f"stdout: {p.stdout.decode()}\nstderr: {p.stderr.decode()}\n"
                      f"scrape:\n{text}")


if __name__ == "__main__":
    unittest.main()
