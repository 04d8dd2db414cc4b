"""Overload: idle connections up to --max-connections and beyond, a request trickled byte by
byte, and a burst of requests, against the real riffled. Each ends with the daemon up and
answering, and its memory printed.

CI runs them at 2,000 connections and 2,000 requests; RIFFLE_OVERLOAD_CONNECTIONS and
RIFFLE_OVERLOAD_REQUESTS set the scale for a run by hand (docs/reliability.md records one at
10,000 and 100,000). Idle connections need that many descriptors on both sides: raise
`ulimit -n` above the connection count first."""

import os
import socket
import threading
import time
import unittest

from harness import RiffledProcess, auth_headers, TARGET_PREFIX

CONNECTIONS = int(os.environ.get("RIFFLE_OVERLOAD_CONNECTIONS", "2000"))
REQUESTS = int(os.environ.get("RIFFLE_OVERLOAD_REQUESTS", "2000"))
BURST_THREADS = 8
# What an idle connection may cost the daemon: 256 MiB over the 2,000 of CI.
MAX_KIB_PER_CONNECTION = 128


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class OverloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # AWS's call rates would refuse most of a burst of ListStreams: this is about
        # connections and requests, so they are off.
        cls.riffled = RiffledProcess(["--max-connections", str(CONNECTIONS),
                                      "--shard-quotas=off"])
        cls.riffled.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.riffled.stop()
        cls.riffled.cleanup()
        assert rc == 0, f"riffled exited {rc}"

    def assert_serving(self):
        self.assertEqual(self.riffled.raw("ListStreams").status, 200)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.riffled.port), timeout=10)

    def test_connections_beyond_the_limit_are_refused_and_the_rest_served(self):
        before = rss_mib(self.riffled.proc.pid)
        idle = []
        try:
            for _ in range(CONNECTIONS):
                idle.append(self.connect())
            time.sleep(0.5)  # let the server accept them all
            extra = self.connect()
            extra.settimeout(10)
            answer = extra.recv(4096)
            extra.close()
            self.assertTrue(answer.startswith(b"HTTP/1.1 503"), answer[:100])
            self.assertIn(b"ServiceUnavailable", answer)
            during = rss_mib(self.riffled.proc.pid)
            print(f"\n{CONNECTIONS} idle connections: RSS {before:.0f} -> {during:.0f} MiB")
            self.assertLess(during - before, CONNECTIONS * MAX_KIB_PER_CONNECTION / 1024,
                            "memory per idle connection is not bounded")
        finally:
            for s in idle:
                s.close()
        # The slots come back as the connections close.
        deadline = time.monotonic() + 10
        while True:
            try:
                self.assert_serving()
                break
            except (AssertionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def test_a_request_trickled_byte_by_byte_holds_up_no_one(self):
        body = b"{}"
        headers = auth_headers(self.riffled.host, TARGET_PREFIX + "ListStreams", body)
        request = ("POST / HTTP/1.1\r\nHost: " + self.riffled.host + "\r\n" +
                   "".join(f"{k}: {v}\r\n" for k, v in headers.items()) +
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        done = threading.Event()
        answers = []

        def trickle():
            with self.connect() as s:
                for i in range(len(request)):
                    s.sendall(request[i:i + 1])
                    if done.is_set():
                        return
                    time.sleep(0.005)
                s.settimeout(10)
                answers.append(s.recv(100))

        slow = threading.Thread(target=trickle)
        slow.start()
        served = 0
        while slow.is_alive() and served < 200:
            self.assert_serving()
            served += 1
        done.set()
        slow.join(30)
        self.assertGreater(served, 10, "requests were held up by the slow one")

    def test_a_burst_of_requests_is_answered(self):
        results = []

        def burst():
            conn = self.riffled.connection()
            try:
                for _ in range(REQUESTS // BURST_THREADS):
                    results.append(self.riffled.raw("ListStreams", conn=conn).status)
            finally:
                conn.close()

        threads = [threading.Thread(target=burst) for _ in range(BURST_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(120, REQUESTS / 100))  # a hundred answers a second is already slow
        self.assertEqual(len(results), REQUESTS // BURST_THREADS * BURST_THREADS)
        self.assertEqual(set(results), {200})
        print(f"\nafter {len(results)} requests in a burst: "
              f"RSS {rss_mib(self.riffled.proc.pid):.0f} MiB")


if __name__ == "__main__":
    unittest.main()
