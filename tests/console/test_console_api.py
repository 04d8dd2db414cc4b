"""The web console's JSON API (docs/console.md) against the real riffled.

One daemon per class with the console on a port chosen at run time; streams are
created through the API and checked through it and through boto3 (the Kinesis
port), so the console and the Kinesis API are seen to agree.
"""

import base64
import datetime
import http.client
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import RiffledTestCase, free_port, riffled_path, wait_for


class ConsoleClient:
    """Raw HTTP to the console: every response is (status, headers, body bytes)."""

    def __init__(self, host):
        self.host = host

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection(self.host, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def json(self, method, path, payload=None, headers=None, timeout=30):
        """A same-origin request as the page sends it; returns (status, parsed body)."""
        sent = {"Content-Type": "application/json", "Origin": f"http://{self.host}",
                "Sec-Fetch-Site": "same-origin"}
        sent.update(headers or {})
        body = None if payload is None and method == "GET" else json.dumps(payload or {})
        if method == "GET":
            sent = {}
        status, _, raw = self.request(method, path, body, sent, timeout)
        return status, json.loads(raw)

    def read(self, stream, timeout=30, **params):
        query = urllib.parse.urlencode(params)
        return self.json("GET", f"/api/streams/{stream}/records?{query}", timeout=timeout)


class ConsoleApiTest(RiffledTestCase):
    daemon_scope = "class"
    riffled_args = ("--console-port", str(free_port()))

    def setUp(self):
        super().setUp()
        self.console = ConsoleClient(self.riffled.console_host)

    def create(self, name, shards=1, **extra):
        status, body = self.console.json("POST", "/api/streams",
                                         dict(name=name, mode="PROVISIONED", shard_count=shards,
                                              **extra))
        self.assertEqual(status, 201, body)
        return name

    def put(self, stream, key, data):
        status, body = self.console.json(
            "POST", f"/api/streams/{stream}/records",
            {"partition_key": key, "data_base64": base64.b64encode(data).decode()})
        self.assertEqual(status, 201, body)
        return body

    def read_all(self, stream, **params):
        """Pages through the stream until a page comes back empty."""
        records, cursor = [], None
        for _ in range(100):
            query = dict(params, cursor=cursor) if cursor else dict(params)
            status, page = self.console.read(stream, **query)
            self.assertEqual(status, 200, page)
            if not page["records"]:
                return records
            records += page["records"]
            cursor = page["cursor"]
        self.fail("paging never ended")

    def test_ports_file_names_the_console_port(self):
        self.assertEqual(self.riffled.ports["console"], int(self.riffled_args[1]))

    def test_stream_created_through_the_api_is_listed_described_and_deleted(self):
        name = self.create(self.unique_name("life"), shards=3, retention_period_hours=48,
                           tags={"team": "payments"})
        status, listing = self.console.json("GET", "/api/streams")
        self.assertEqual(status, 200)
        listed = {s["name"]: s for s in listing["streams"]}
        self.assertEqual(listed[name]["status"], "ACTIVE")
        self.assertEqual(listed[name]["mode"], "PROVISIONED")
        self.assertEqual(listed[name]["open_shard_count"], 3)
        self.assertEqual(listed[name]["retention_period_hours"], 48)
        self.assertEqual(listed[name]["consumer_count"], 0)

        status, stream = self.console.json("GET", f"/api/streams/{name}")
        self.assertEqual(status, 200, stream)
        self.assertEqual(stream["tags"], {"team": "payments"})
        kinesis_shards = self.kinesis.list_shards(StreamName=name)["Shards"]
        self.assertEqual([(s["shard_id"], s["starting_hash_key"], s["ending_hash_key"], s["open"])
                          for s in stream["shards"]],
                         [(s["ShardId"], s["HashKeyRange"]["StartingHashKey"],
                           s["HashKeyRange"]["EndingHashKey"], True) for s in kinesis_shards])

        status, body = self.console.json("DELETE", f"/api/streams/{name}")
        self.assertEqual(status, 200, body)
        status, body = self.console.json("GET", f"/api/streams/{name}")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"], "ResourceNotFoundException")

    def test_unknown_stream_is_404_with_the_kinesis_error_code(self):
        for method, path in (("GET", "/api/streams/no-such-stream"),
                             ("GET", "/api/streams/no-such-stream/records"),
                             ("DELETE", "/api/streams/no-such-stream")):
            with self.subTest(method=method, path=path):
                status, body = self.console.json(method, path)
                self.assertEqual(status, 404, body)
                self.assertEqual(body["error"], "ResourceNotFoundException")
                self.assertIn("no-such-stream", body["message"])

    def test_bad_create_requests_say_what_is_wrong(self):
        status, body = self.console.json("POST", "/api/streams", {"name": "x", "shard_count": "2"})
        self.assertEqual((status, body["error"]), (400, "SerializationException"), body)
        self.assertIn("shard_count", body["message"])
        status, _, raw = self.console.request(
            "POST", "/api/streams", "{not json", {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(raw)["error"]), (400, "SerializationException"))
        status, body = self.console.json("POST", "/api/streams",
                                         {"name": "bad name!", "mode": "PROVISIONED",
                                          "shard_count": 1})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"], "ValidationException")

    def test_a_stream_of_1100_shards_is_described_whole_and_read_across_every_shard(self):
        name = self.create(self.unique_name("wide"), shards=1100)
        self.put(name, "one-key", b"x")
        started = time.monotonic()
        status, stream = self.console.json("GET", f"/api/streams/{name}")
        self.assertEqual(status, 200, stream)
        # ListShards answers in pages of 1000: the console reads on past the first.
        self.assertEqual(len(stream["shards"]), 1100)
        self.assertEqual(len({s["shard_id"] for s in stream["shards"]}), 1100)
        status, page = self.console.read(name)
        self.assertEqual(status, 200, page)
        self.assertEqual([r["partition_key"] for r in page["records"]], ["one-key"])
        self.assertLess(time.monotonic() - started, 10)

    def test_partition_key_filter_reads_only_that_keys_records(self):
        name = self.create(self.unique_name("keys"), shards=4)
        for i in range(20):
            self.put(name, f"user-{i % 5}", f"event {i}".encode())
        records = self.read_all(name, partition_key="user-3", limit=100)
        self.assertEqual([base64.b64decode(r["data_base64"]).decode() for r in records],
                         ["event 3", "event 8", "event 13", "event 18"])
        self.assertEqual({r["partition_key"] for r in records}, {"user-3"})

    def test_partition_key_filter_follows_the_key_into_the_parent_after_a_split(self):
        name = self.create(self.unique_name("lineage"), shards=1)
        self.put(name, "k", b"before the split")
        shard = self.kinesis.list_shards(StreamName=name)["Shards"][0]
        status, body = self.console.json("POST", f"/api/streams/{name}/split",
                                         {"shard_id": shard["ShardId"],
                                          "new_starting_hash_key": str(2**127)})
        self.assertEqual(status, 200, body)
        self.put(name, "k", b"after the split")
        records = self.read_all(name, partition_key="k")
        self.assertEqual([base64.b64decode(r["data_base64"]) for r in records],
                         [b"before the split", b"after the split"])
        status, stream = self.console.json("GET", f"/api/streams/{name}")
        children = [s for s in stream["shards"] if s["parent_shard_id"] == shard["ShardId"]]
        self.assertEqual(len(children), 2)
        self.assertFalse([s for s in stream["shards"] if s["shard_id"] == shard["ShardId"]][0]["open"])

    def test_paging_across_shards_shows_every_record_once_in_arrival_order(self):
        name = self.create(self.unique_name("paging"), shards=3)
        sent = []
        for i in range(25):
            sent.append(self.put(name, f"key-{i}", f"r{i}".encode())["sequence_number"])
        records = self.read_all(name, limit=7)
        self.assertEqual(sorted(r["sequence_number"] for r in records), sorted(sent))
        times = [r["arrival_time_ms"] for r in records]
        self.assertEqual(times, sorted(times))

    def test_at_timestamp_starts_at_that_time(self):
        name = self.create(self.unique_name("time"), shards=2)
        self.put(name, "a", b"old")
        time.sleep(0.05)  # so that the two puts have different arrival milliseconds
        boundary = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(0.05)
        self.put(name, "b", b"new")
        iso = boundary.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for timestamp in (iso, str(int(boundary.timestamp() * 1000))):
            with self.subTest(timestamp=timestamp):
                records = self.read_all(name, **{"from": "AT_TIMESTAMP", "timestamp": timestamp})
                self.assertEqual([base64.b64decode(r["data_base64"]) for r in records], [b"new"])

    def test_malformed_timestamp_is_refused_with_the_expected_form(self):
        name = self.create(self.unique_name("badtime"))
        for timestamp in ("yesterday", "2026-13-01T00:00:00Z", "2026-12-04T07:00:00"):
            with self.subTest(timestamp=timestamp):
                status, body = self.console.read(name, **{"from": "AT_TIMESTAMP",
                                                          "timestamp": timestamp})
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"], "InvalidArgumentException")
                self.assertIn("ISO 8601", body["message"])

    def test_at_sequence_number_finds_the_shard_of_the_record(self):
        name = self.create(self.unique_name("seq"), shards=4)
        puts = [self.put(name, f"k{i}", f"v{i}".encode()) for i in range(8)]
        target = puts[5]
        status, page = self.console.read(name, **{"from": "AT_SEQUENCE_NUMBER",
                                                  "sequence_number": target["sequence_number"]})
        self.assertEqual(status, 200, page)
        self.assertEqual(page["records"][0]["sequence_number"], target["sequence_number"])
        self.assertEqual({r["shard_id"] for r in page["records"]}, {target["shard_id"]})
        status, body = self.console.read(name, **{"from": "AT_SEQUENCE_NUMBER",
                                                  "sequence_number": "12345"})
        self.assertEqual((status, body["error"]), (400, "InvalidArgumentException"), body)

    def test_one_mib_binary_record_is_previewed_and_downloadable_whole(self):
        name = self.create(self.unique_name("big"))
        data = os.urandom(1024 * 1024 - 10)  # the partition key takes the rest of 1 MiB
        put = self.put(name, "big-key-1", data)
        status, page = self.console.read(name)
        self.assertEqual(status, 200)
        [record] = page["records"]
        self.assertTrue(record["truncated"])
        self.assertEqual(record["size"], len(data))
        self.assertEqual(base64.b64decode(record["data_base64"]), data[:4096])
        status, headers, body = self.console.request(
            "GET", f"/api/streams/{name}/shards/{put['shard_id']}/records/{put['sequence_number']}")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/octet-stream")
        self.assertIn("attachment", headers["content-disposition"])
        self.assertEqual(body, data)
        # One byte more than the stream takes is the broker's ValidationException.
        status, body = self.console.json(
            "POST", f"/api/streams/{name}/records",
            {"partition_key": "k", "data_base64": base64.b64encode(os.urandom(1024 * 1024)).decode()})
        self.assertEqual((status, body["error"]), (400, "ValidationException"), body)

    def test_invalid_base64_data_is_refused(self):
        name = self.create(self.unique_name("b64"))
        status, body = self.console.json("POST", f"/api/streams/{name}/records",
                                         {"partition_key": "k", "data_base64": "not base64!"})
        self.assertEqual((status, body["error"]), (400, "InvalidArgumentException"), body)

    def test_cross_origin_changes_are_refused(self):
        name = self.unique_name("csrf")
        create = json.dumps({"name": name, "mode": "PROVISIONED", "shard_count": 1})
        refused = {
            "other origin": {"Content-Type": "application/json", "Origin": "http://evil.example"},
            "cross-site fetch": {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
            "form post": {"Content-Type": "text/plain"},
            "no content type": {},
        }
        for what, headers in refused.items():
            with self.subTest(what):
                status, _, raw = self.console.request("POST", "/api/streams", create, headers)
                self.assertEqual(status, 403, raw)
                self.assertEqual(json.loads(raw)["error"], "AccessDeniedException")
        self.assertNotIn(name, self.kinesis.list_streams()["StreamNames"])
        # The same request from the console's own page goes through.
        status, _, raw = self.console.request(
            "POST", "/api/streams", create,
            {"Content-Type": "application/json", "Origin": f"http://{self.console.host}",
             "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(status, 201, raw)

    def test_tail_answers_when_a_record_put_by_boto3_arrives(self):
        name = self.create(self.unique_name("tail"), shards=2)
        self.put(name, "k", b"before the tail")
        # LATEST is an instant in milliseconds, inclusive (so a tail misses nothing that
        # arrives as it starts): a record of the same millisecond would count as after it.
        time.sleep(0.005)
        status, start = self.console.read(name, **{"from": "LATEST"})
        self.assertEqual((status, start["records"]), (200, []))
        answer = {}

        def tail():
            started = time.monotonic()
            answer["page"] = self.console.read(name, cursor=start["cursor"], wait_ms=10000)
            answer["seconds"] = time.monotonic() - started

        waiter = threading.Thread(target=tail)
        waiter.start()
        time.sleep(0.5)  # the tail is waiting: the record arrives during the long poll
        self.kinesis.put_record(StreamName=name, PartitionKey="boto3", Data=b"live")
        waiter.join(timeout=15)
        status, page = answer["page"]
        self.assertEqual(status, 200, page)
        self.assertEqual([base64.b64decode(r["data_base64"]) for r in page["records"]], [b"live"])
        self.assertLess(answer["seconds"], 5)
        # And the tail goes on from there: nothing new means an empty answer after the wait.
        status, page = self.console.read(name, cursor=page["cursor"], wait_ms=600)
        self.assertEqual((status, page["records"]), (200, []))

    def test_update_shard_count_and_merge(self):
        name = self.create(self.unique_name("scale"), shards=2)
        status, body = self.console.json("POST", f"/api/streams/{name}/shard-count",
                                         {"target_shard_count": 4})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["target_shard_count"], 4)
        wait_for(lambda: self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["OpenShardCount"] == 4, 10, what="4 open shards")
        open_shards = sorted((s for s in self.kinesis.list_shards(StreamName=name)["Shards"]
                              if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                             key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
        status, body = self.console.json("POST", f"/api/streams/{name}/merge",
                                         {"shard_id": open_shards[0]["ShardId"],
                                          "adjacent_shard_id": open_shards[1]["ShardId"]})
        self.assertEqual(status, 200, body)
        status, stream = self.console.json("GET", f"/api/streams/{name}")
        self.assertEqual(stream["open_shard_count"], 3)

    def test_metrics_history_counts_the_records_put_and_read(self):
        name = self.create(self.unique_name("charts"), shards=2)
        wait_for(lambda: self.kinesis.describe_stream_summary(StreamName=name)
                 ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 30, what="ACTIVE")
        status, metrics = self.console.json("GET", f"/api/streams/{name}/metrics")
        self.assertEqual(status, 200, metrics)
        self.assertTrue(metrics["history"]["kept"])
        self.assertEqual(metrics["history"]["interval_ms"], 5000)
        self.assertIsNone(metrics["stream"])  # nothing put yet
        entries = [{"Data": b"x" * (10 + i), "PartitionKey": f"key-{i}"} for i in range(40)]
        put = self.kinesis.put_records(StreamName=name, Records=entries)
        expected_bytes = sum(len(e["Data"]) + len(e["PartitionKey"]) for e in entries)
        shard = put["Records"][0]["ShardId"]
        time.sleep(0.05)  # the record read below is then older than the read
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard,
                                                   ShardIteratorType="TRIM_HORIZON")
        self.kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1)

        def sampled():
            status, body = self.console.json("GET", f"/api/streams/{name}/metrics")
            self.assertEqual(status, 200, body)
            return body if body["stream"] and sum(body["stream"]["incoming_records"]) else None
        metrics = wait_for(sampled, 20, interval=0.5, what="an interval with the records")
        traffic = metrics["stream"]
        self.assertEqual(sum(traffic["incoming_records"]), 40)
        self.assertEqual(sum(traffic["incoming_bytes"]), expected_bytes)
        self.assertEqual(len(traffic["incoming_records"]), metrics["intervals"])
        self.assertTrue(any(age is not None and age > 0 for age in traffic["iterator_age_ms"]),
                        traffic["iterator_age_ms"])  # one record read of 40: behind the rest
        self.assertEqual(sorted(s["shard_id"] for s in metrics["shards"]),
                         sorted(s["ShardId"] for s in self.kinesis.list_shards(StreamName=name)["Shards"]))
        self.assertEqual(sum(sum(s["traffic"]["incoming_records"]) for s in metrics["shards"]), 40)
        self.assertEqual(metrics["consumer_groups"], [])

        status, one = self.console.json("GET", f"/api/streams/{name}/metrics?shards=1")
        self.assertEqual((status, len(one["shards"]), one["shards_not_shown"]), (200, 1, 1))

        # The stream list carries the sparklines' data.
        status, listing = self.console.json("GET", "/api/streams")
        listed = {s["name"]: s for s in listing["streams"]}
        self.assertEqual(sum(listed[name]["incoming_records_history"]), 40)
        self.assertEqual(sum(listed[name]["incoming_bytes_history"]), expected_bytes)
        self.assertEqual(len(listed[name]["incoming_records_history"]),
                         len(listed[name]["incoming_bytes_history"]))
        self.assertGreater(listing["history"]["start_ms"], 0)
        status, listing = self.console.json("GET", "/api/streams?history_minutes=0")
        self.assertIsNone({s["name"]: s for s in listing["streams"]}[name]["incoming_records_history"])

    def test_metrics_of_an_unknown_stream_or_a_bad_window_are_refused(self):
        status, body = self.console.json("GET", "/api/streams/no-such-stream/metrics")
        self.assertEqual((status, body["error"]), (404, "ResourceNotFoundException"))
        name = self.create(self.unique_name("charts-bad"))
        for query in ("minutes=0", "minutes=61", "shards=x"):
            status, body = self.console.json("GET", f"/api/streams/{name}/metrics?{query}")
            self.assertEqual((status, body["error"]), (400, "InvalidArgumentException"), query)

    def test_the_page_and_its_assets_are_served_with_a_content_security_policy(self):
        status, headers, body = self.console.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(b'src="/app.js"', body)
        self.assertIn("default-src 'self'", headers["content-security-policy"])
        status, headers, body = self.console.request("GET", "/app.js")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/javascript"))
        self.assertGreater(len(body), 1000)
        status, headers, _ = self.console.request("GET", "/app.css")
        self.assertEqual((status, headers["content-type"].split(";")[0]), (200, "text/css"))
        status, _, _ = self.console.request("GET", "/no-such-file")
        self.assertEqual(status, 404)


class ConsolePortTest(unittest.TestCase):
    DEFAULT_CONSOLE_PORT = 8080

    def test_a_taken_default_console_port_leaves_riffled_running_without_a_console(self):
        with socket.socket() as holder, tempfile.TemporaryDirectory() as work:
            try:
                holder.bind(("127.0.0.1", self.DEFAULT_CONSOLE_PORT))
                holder.listen()
            except OSError:
                pass  # something else holds it already: just as taken
            ports_file = os.path.join(work, "ports.json")
            daemon = subprocess.Popen(
                [riffled_path(), "--data-dir", os.path.join(work, "data"), "--bind", "127.0.0.1",
                 "--kinesis-port", "0", "--grpc-port", "0", "--metrics-port", "0",
                 "--ports-file", ports_file],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                text=True)
            try:
                wait_for(lambda: os.path.exists(ports_file) or daemon.poll() is not None, 30,
                         what="the ports file")
                self.assertTrue(os.path.exists(ports_file), "riffled exited before listening")
                with open(ports_file) as f:
                    self.assertEqual(json.load(f)["console"], 0)
            finally:
                daemon.terminate()
                log, _ = daemon.communicate(timeout=30)
        self.assertEqual(daemon.returncode, 0, log)
        self.assertIn("running without the web console", log)

    def test_a_chosen_console_port_that_is_taken_stops_riffled_with_a_message(self):
        with socket.socket() as taken, tempfile.TemporaryDirectory() as work:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            p = subprocess.run(
                [riffled_path(), "--data-dir", os.path.join(work, "data"), "--bind", "127.0.0.1",
                 "--kinesis-port", "0", "--grpc-port", "0", "--metrics-port", "0",
                 "--console-port", str(port)],
                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"cannot listen on 127.0.0.1:{port} for the web console",
                      p.stdout + p.stderr)


class ConsoleCredentialsTest(unittest.TestCase):
    """With a credentials file the console wants a key on every call, as a bearer header, and
    authorizes each call like the Kinesis action it stands for."""

    KEYS = """
[[key]]
id = "AKIACONSOLEADMIN"
secret = "admin-secret"
account = "111122223333"
streams = ["*"]
operations = ["read", "write", "admin"]

[[key]]
id = "AKIACONSOLEREADER"
secret = "reader-secret"
account = "111122223333"
streams = ["shop-*"]
operations = ["read"]
"""

    @classmethod
    def start_riffled(cls):
        """A riffled with the console and KEYS as its credentials file: (work dir, daemon)."""
        from harness import RiffledProcess
        work = tempfile.mkdtemp(prefix="riffle-console-keys-")
        path = os.path.join(work, "credentials.toml")
        with open(path, "w") as f:
            f.write(cls.KEYS)
        riffled = RiffledProcess(["--credentials-file", path, "--console-port", str(free_port())])
        riffled.start()
        return work, riffled

    @classmethod
    def setUpClass(cls):
        cls.work, cls.riffled = cls.start_riffled()
        cls.console = ConsoleClient(cls.riffled.console_host)

    @classmethod
    def tearDownClass(cls):
        rc = cls.riffled.stop()
        cls.riffled.cleanup()
        assert rc == 0, f"riffled exited {rc}"

    ADMIN = "AKIACONSOLEADMIN:admin-secret"
    READER = "AKIACONSOLEREADER:reader-secret"

    def create_as_admin(self, name):
        status, body = self.as_key("POST", "/api/streams",
                                   dict(name=name, mode="PROVISIONED", shard_count=1),
                                   key=self.ADMIN)
        self.assertEqual(status, 201, body)

    def as_key(self, method, path, payload=None, key=None):
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        if method == "GET":
            status, _, raw = self.console.request("GET", path, headers=headers)
            return status, json.loads(raw)
        return self.console.json(method, path, payload, headers=headers)

    def test_no_key_or_a_wrong_one_is_asked_to_sign_in(self):
        for key in (None, "AKIACONSOLEADMIN:wrong", "nobody:x", "malformed"):
            status, body = self.as_key("GET", "/api/streams", key=key)
            self.assertEqual(status, 401, (key, body))
            self.assertEqual(body["error"], "UnrecognizedClientException")
        # The page itself loads, so it can show the sign-in form.
        status, _, page = self.console.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<", page)

    def test_each_call_needs_the_permission_of_its_action(self):
        admin = "AKIACONSOLEADMIN:admin-secret"
        reader = "AKIACONSOLEREADER:reader-secret"
        status, body = self.as_key("POST", "/api/streams",
                                   dict(name="shop-orders", mode="PROVISIONED", shard_count=1),
                                   key=admin)
        self.assertEqual(status, 201, body)
        status, body = self.as_key("POST", "/api/streams",
                                   dict(name="shop-other", mode="PROVISIONED", shard_count=1),
                                   key=reader)
        self.assertEqual((status, body["error"]), (403, "AccessDeniedException"))
        wait_for(lambda: self.as_key("GET", "/api/streams/shop-orders", key=reader)[0] == 200,
                 30, what="the reader to see the stream")
        status, body = self.as_key("POST", "/api/streams/shop-orders/records",
                                   {"partition_key": "k", "data_base64": "eA=="}, key=reader)
        self.assertEqual((status, body["error"]), (403, "AccessDeniedException"))
        status, body = self.as_key("DELETE", "/api/streams/shop-orders", key=reader)
        self.assertEqual(status, 403, body)
        status, body = self.as_key("POST", "/api/streams/shop-orders/records",
                                   {"partition_key": "k", "data_base64": "eA=="}, key=admin)
        self.assertEqual(status, 201, body)

    def test_the_stream_list_shows_only_the_streams_the_key_may_read(self):
        admin, reader = self.ADMIN, self.READER
        for name in ("shop-listed", "private-unlisted"):
            self.create_as_admin(name)
        names = lambda key: {s["name"] for s in self.as_key("GET", "/api/streams", key=key)[1]["streams"]}
        self.assertTrue({"shop-listed", "private-unlisted"} <= names(admin), names(admin))
        self.assertIn("shop-listed", names(reader))
        self.assertTrue(all(n.startswith("shop-") for n in names(reader)), names(reader))

    def test_a_record_downloads_with_the_key_in_its_header(self):
        admin, reader = self.ADMIN, self.READER
        self.create_as_admin("shop-download")
        wait_for(lambda: self.as_key("GET", "/api/streams/shop-download", key=reader)[1]
                 .get("status") == "ACTIVE", 30, what="ACTIVE")
        data = bytes(range(256)) * 20
        status, put = self.as_key("POST", "/api/streams/shop-download/records",
                                  {"partition_key": "k", "data_base64": base64.b64encode(data).decode()},
                                  key=admin)
        self.assertEqual(status, 201, put)
        path = f"/api/streams/shop-download/shards/{put['shard_id']}/records/{put['sequence_number']}"
        status, _, raw = self.console.request("GET", path)
        self.assertEqual(status, 401)
        status, headers, raw = self.console.request("GET", path,
                                                    headers={"Authorization": f"Bearer {reader}"})
        self.assertEqual(status, 200)
        self.assertEqual(raw, data)
        self.assertEqual(headers["content-type"], "application/octet-stream")


if __name__ == "__main__":
    unittest.main()
