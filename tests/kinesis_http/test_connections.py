"""HTTP/1.1 connection handling of the Kinesis front end.

Keep-alive over many requests without a reconnect, many concurrent
connections, pipelined requests answered in order, `Connection: close`, and
chunked request bodies, all on raw sockets or http.client.
"""

import json
import select
import socket
import threading
import time
import unittest

from harness import (JSON_CT, TARGET_PREFIX, RiffledTestCase, auth_headers, read_all_records,
                     shard_id)


def read_response(f):
    """Reads one HTTP/1.1 response from a buffered binary file; returns
    (status, headers with lower-case names, body)."""
    line = f.readline()
    if not line:
        raise AssertionError("connection closed before a response")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    assert parts[0] == "HTTP/1.1", line
    status = int(parts[1])
    headers = {}
    while True:
        h = f.readline().decode("latin-1").rstrip("\r\n")
        if not h:
            break
        k, v = h.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
    else:
        body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


def request_bytes(host, operation, body, extra_headers=None):
    raw = json.dumps(body).encode()
    h = auth_headers(host, TARGET_PREFIX + operation, raw)
    h["Host"] = host
    h["Content-Length"] = str(len(raw))
    h.update(extra_headers or {})
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return head.encode() + raw


class ConnectionsTest(RiffledTestCase):
    daemon_scope = "class"
    riffled_args = ("--shard-quotas=off",)

    def test_ports_file_names_every_listener(self):
        ports = self.riffled.ports
        self.assertEqual(sorted(ports), ["console", "grpc", "kinesis", "metrics"])
        for key in ("kinesis", "grpc"):
            with self.subTest(listener=key):
                self.assertTrue(0 < ports[key] < 65536,
                                f"--{key}-port 0 must pick a free port: {ports}")
                with socket.create_connection(("127.0.0.1", ports[key]), timeout=5):
                    pass
        self.assertNotEqual(ports["kinesis"], ports["grpc"])
        # --metrics-port 0 turns the exporter off, --console-port 0 the console, and the ports
        # file says so.
        self.assertEqual(ports["metrics"], 0)
        self.assertEqual(ports["console"], 0)

    def test_10000_requests_on_one_keep_alive_connection(self):
        conn = self.riffled.connection(timeout=30)
        body = b"{}"
        headers = auth_headers(self.riffled.host, TARGET_PREFIX + "DescribeLimits", body)
        conn.connect()
        sock = conn.sock
        local = sock.getsockname()
        started = time.monotonic()
        for i in range(10000):
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                self.fail(f"request {i}: {resp.status} {data!r}")
            if resp.getheader("Connection", "").lower() == "close" or conn.sock is not sock:
                self.fail(f"the server closed the connection after {i + 1} requests")
        self.assertEqual(sock.getsockname(), local)
        self.assertIn("ShardLimit", json.loads(data))
        conn.close()
        self.assertLess(time.monotonic() - started, 120)

    def test_200_concurrent_connections(self):
        name = self.create_stream(on_demand=True)
        n, per = 200, 3
        barrier = threading.Barrier(n, timeout=60)
        errors, seqs = [], []
        lock = threading.Lock()

        def worker(w):
            try:
                conn = self.riffled.connection(timeout=60)
                conn.connect()
                sock = conn.sock
                barrier.wait()  # all 200 connections are open at once
                for j in range(per):
                    r = self.riffled.raw("PutRecord", {
                        "StreamName": name, "Data": "d29ya2Vy", "PartitionKey": f"w{w}-{j}"},
                        conn=conn)
                    if r.status != 200:
                        raise AssertionError(f"worker {w} request {j}: {r}")
                    with lock:
                        seqs.append((r.json()["ShardId"], r.json()["SequenceNumber"]))
                r = self.riffled.raw("DescribeStreamSummary", {"StreamName": name}, conn=conn)
                if r.status != 200:
                    raise AssertionError(f"worker {w} summary: {r}")
                if conn.sock is not sock:
                    raise AssertionError(f"worker {w} was reconnected")
                conn.close()
            except BaseException as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(f"worker {w}: {e!r}")
                barrier.abort()

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "workers hung")
        self.assertEqual(errors[:5], [])
        self.assertEqual(len(seqs), n * per)
        self.assertEqual(len(set(seqs)), n * per, "sequence numbers are unique")
        shards = {s for s, _ in seqs}
        stored = sum(len(read_all_records(self.kinesis, name, s)) for s in shards)
        self.assertEqual(stored, n * per)

    def test_pipelined_requests_are_answered_in_order(self):
        name = self.create_stream()
        host = self.riffled.host
        reqs = [request_bytes(host, "PutRecord", {"StreamName": name, "Data": "MA==",
                                                  "PartitionKey": "p"}),
                request_bytes(host, "DescribeStreamSummary", {"StreamName": "missing-stream"}),
                request_bytes(host, "PutRecord", {"StreamName": name, "Data": "MQ==",
                                                  "PartitionKey": "p"}),
                request_bytes(host, "DescribeStreamSummary", {"StreamName": name}),
                request_bytes(host, "PutRecord", {"StreamName": name, "Data": "Mg==",
                                                  "PartitionKey": "p"})]
        with socket.create_connection(("127.0.0.1", self.riffled.port), timeout=30) as s:
            s.sendall(b"".join(reqs))  # all five in one write, before any answer
            f = s.makefile("rb")
            answers = [read_response(f) for _ in reqs]
        statuses = [a[0] for a in answers]
        self.assertEqual(statuses, [200, 400, 200, 200, 200], answers)
        self.assertEqual(json.loads(answers[1][2])["__type"], "ResourceNotFoundException")
        self.assertEqual(json.loads(answers[3][2])["StreamDescriptionSummary"]["StreamName"],
                         name)
        seqs = [int(json.loads(answers[i][2])["SequenceNumber"]) for i in (0, 2, 4)]
        self.assertEqual(seqs, sorted(seqs))
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([r["Data"] for r in recs], [b"0", b"1", b"2"])
        self.assertEqual([int(r["SequenceNumber"]) for r in recs], seqs)

    def test_connection_close_is_honoured(self):
        host = self.riffled.host
        with socket.create_connection(("127.0.0.1", self.riffled.port), timeout=30) as s:
            s.sendall(request_bytes(host, "ListStreams", {}, {"Connection": "close"}))
            f = s.makefile("rb")
            status, headers, body = read_response(f)
            self.assertEqual(status, 200)
            self.assertIn("StreamNames", json.loads(body))
            self.assertEqual(f.read(), b"", "the server must close after Connection: close")

    def test_chunked_request_body_is_accepted(self):
        name = self.create_stream()
        host = self.riffled.host
        raw = json.dumps({"StreamName": name, "Data": "Y2h1bmtlZA==",
                          "PartitionKey": "p"}).encode()
        h = auth_headers(host, TARGET_PREFIX + "PutRecord", raw)
        h["Host"] = host
        h["Transfer-Encoding"] = "chunked"
        head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        pieces = [raw[:10], raw[10:25], raw[25:]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.riffled.port), timeout=30) as s:
            s.sendall(head.encode() + body)
            status, headers, resp = read_response(s.makefile("rb"))
        self.assertEqual(status, 200, resp)
        self.assertEqual(headers.get("content-type"), JSON_CT)
        self.assertEqual(json.loads(resp)["ShardId"], shard_id(0))
        recs = read_all_records(self.kinesis, name, shard_id(0))
        self.assertEqual([r["Data"] for r in recs], [b"chunked"])

    def test_expect_100_continue(self):
        name = self.create_stream()
        host = self.riffled.host
        req = request_bytes(host, "PutRecord", {"StreamName": name, "Data": "ZXhwZWN0",
                                                "PartitionKey": "p"},
                            {"Expect": "100-continue"})
        head, body = req.split(b"\r\n\r\n", 1)
        with socket.create_connection(("127.0.0.1", self.riffled.port), timeout=30) as s:
            s.sendall(head + b"\r\n\r\n")
            f = s.makefile("rb")
            # A server may answer 100 Continue or simply wait for the body.
            readable, _, _ = select.select([s], [], [], 1.0)
            if readable:
                status, _, _ = read_response(f)
                self.assertEqual(status, 100, "only 100 Continue may come before the body")
            s.sendall(body)
            status, headers, resp = read_response(f)
        self.assertEqual(status, 200, resp)
        self.assertEqual(json.loads(resp)["ShardId"], shard_id(0))

    def test_client_that_disconnects_mid_request_does_not_hurt(self):
        host = self.riffled.host
        full = request_bytes(host, "ListStreams", {})
        for cut in (10, len(full) // 2, len(full) - 1):
            s = socket.create_connection(("127.0.0.1", self.riffled.port), timeout=30)
            s.sendall(full[:cut])
            s.close()
        r = self.riffled.raw("ListStreams", {})
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    unittest.main()
