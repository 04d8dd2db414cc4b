"""Real processes for the cluster tests: one etcd and several riffled nodes.

EtcdServer runs Debian's etcd (/usr/bin/etcd) on loopback ports chosen at run
time with its own temp data dir, and reads keys through etcd's JSON gateway
(POST /v3/kv/range, base64 keys) with urllib. ClusterNode is one riffled in
cluster mode: its own data dir, gRPC and Kinesis ports chosen here and kept
across restarts (the advertise address must name the gRPC port), checked
against its --ports-file, and a log file. Nodes can be stopped (SIGTERM), killed (SIGKILL), paused (SIGSTOP) and
resumed (SIGCONT), and restarted on the same data dir and node id. Cluster
ties them together, reads the cluster's keys under /riffle/<name>/, and
cleans up every process and directory it made, also when a test fails.

The binaries come from the environment as for the other Python tests:
RIFFLED (CMake sets it to $<TARGET_FILE:riffled>).
"""

import base64
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import namedtuple

import boto3
import botocore.exceptions
from botocore.config import Config

# The Kinesis harness (RiffledProcess, record helpers) shares this module's
# name, so it is loaded from its path under another one.
_KINESIS_HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "kinesis_http", "harness.py")
_spec = importlib.util.spec_from_file_location("kinesis_harness", _KINESIS_HARNESS)
kinesis_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kinesis_harness)

RiffledProcess = kinesis_harness.RiffledProcess
wait_for = kinesis_harness.wait_for
initial_ranges = kinesis_harness.initial_ranges
hash_key = kinesis_harness.hash_key
shard_for = kinesis_harness.shard_for
shard_id = kinesis_harness.shard_id
read_all_records = kinesis_harness.read_all_records
riffled_path = kinesis_harness.riffled_path
cli_major_version = kinesis_harness.cli_major_version
ACCESS_KEY = kinesis_harness.ACCESS_KEY
SECRET_KEY = kinesis_harness.SECRET_KEY
REGION = kinesis_harness.REGION

ETCD_BINARY = "/usr/bin/etcd"
ETCD_START_DEADLINE_S = 20.0
MEMBER_DEADLINE_S = 20.0

# What a node answers for a shard it cannot serve (docs/cluster.md §8).
UNAVAILABLE_CODES = ("ServiceUnavailable", "ServiceUnavailableException",
                     "InternalFailure", "InternalFailureException")


def event_queue(response):
    """The events of a SubscribeToShard `response`, read on a thread of their own into a queue:
    each event dict, then the exception that ended the stream if any, then None."""
    events = queue.Queue()

    def pump():
        try:
            for event in response["EventStream"]:
                events.put(event)
        except Exception as e:  # noqa: BLE001 - handed to the test
            events.put(e)
        events.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return events


def events_until(events, enough, seconds, so_far):
    """Yields each SubscribeToShardEvent from an event_queue until `enough()`; fails with
    `so_far()` when `seconds` run out first, or when the subscription ends."""
    deadline = time.monotonic() + seconds
    while not enough():
        try:
            event = events.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"only {so_far()} within {seconds} s") from None
        if not isinstance(event, dict):
            raise AssertionError(f"the subscription ended: {event!r}")
        yield event["SubscribeToShardEvent"]


def free_port():
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefix_end(prefix):
    """etcd's range_end for every key starting with `prefix` (bytes)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def read_varint(data, pos):
    """An unsigned LEB128 varint of `data` at `pos`; returns (value, next position)."""
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


KeyValue = namedtuple("KeyValue", "key value lease create_revision mod_revision")


class EtcdServer:
    """One etcd process on loopback ports chosen at start, with a temp data dir."""

    def __init__(self):
        if not os.access(ETCD_BINARY, os.X_OK):
            raise RuntimeError(
                f"{ETCD_BINARY} is missing: the cluster tests need a real etcd; install "
                "Debian's etcd-server (apt-get install -y etcd-server; scripts/test does)")
        self.dir = tempfile.mkdtemp(prefix="riffle-etcd-")
        self.log_path = os.path.join(self.dir, "etcd.log")
        self.proc = None
        self.client_port = None
        self.peer_port = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.client_port}"

    def start(self):
        """Starts etcd and waits until it answers; retries on fresh ports if ours were taken."""
        for _ in range(3):
            self.client_port, self.peer_port = free_port(), free_port()
            if self._launch():
                return self
        raise RuntimeError("etcd did not start; its log:\n" + self.log_tail())

    def _launch(self):
        client, peer = self.endpoint, f"http://127.0.0.1:{self.peer_port}"
        cmd = [ETCD_BINARY, "--name", "riffle-test", "--data-dir",
               os.path.join(self.dir, "data"),
               "--listen-client-urls", client, "--advertise-client-urls", client,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", f"riffle-test={peer}",
               # A lone member elects itself sooner with short timeouts; a 2 s lease is
               # still above etcd's floor.
               "--election-timeout", "500", "--heartbeat-interval", "50"]
        with open(self.log_path, "ab") as log:
            log.write(f"=== {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + ETCD_START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            try:
                self.call("/v3/kv/range", {"key": _b64(b"riffle-test-probe")}, timeout=1)
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        self.kill()
        return False

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, limit=6000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no etcd log)"
        return text[-limit:]

    # -- the JSON gateway ---------------------------------------------------

    def call(self, path, body, timeout=5):
        """POSTs a JSON body to etcd's gateway; returns the decoded answer."""
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")

    def range(self, key, prefix=False):
        """The KeyValues at `key` (str or bytes), or under it when prefix is set."""
        key = key.encode() if isinstance(key, str) else key
        body = {"key": _b64(key)}
        if prefix:
            body["range_end"] = _b64(prefix_end(key))
        out = self.call("/v3/kv/range", body)
        return [KeyValue(key=base64.b64decode(kv["key"]).decode("utf-8", "replace"),
                         value=base64.b64decode(kv.get("value", "")),
                         lease=int(kv.get("lease", 0)),
                         create_revision=int(kv.get("create_revision", 0)),
                         mod_revision=int(kv.get("mod_revision", 0)))
                for kv in out.get("kvs", [])]

    def get(self, key):
        """The KeyValue at `key`, or None."""
        kvs = self.range(key)
        return kvs[0] if kvs else None

    def lease_ttl(self, lease):
        """(remaining TTL, granted TTL) of a lease in seconds; TTL is -1 once it is gone."""
        out = self.call("/v3/lease/timetolive", {"ID": str(lease)})
        return int(out.get("TTL", -1)), int(out.get("grantedTTL", 0))


class ClusterNode(RiffledProcess):
    """One riffled in cluster mode; its data dir, node id and gRPC port survive restarts."""

    def __init__(self, cluster, node_id, extra_args=()):
        super().__init__(extra_args, name=node_id)
        self.cluster = cluster
        self.node_id = node_id
        # Both ports are chosen here and kept across restarts: the advertise address must
        # name the gRPC port, and the member key shows the Kinesis one.
        self.grpc_port = free_port()
        self.kinesis_port = free_port()
        self.paused = False

    @property
    def advertise_addr(self):
        return f"127.0.0.1:{self.grpc_port}"

    def command(self):
        return [self.binary, "--data-dir", self.data_dir, "--bind", "127.0.0.1",
                "--kinesis-port", str(self.kinesis_port), "--grpc-port", str(self.grpc_port),
                "--metrics-port", "0", "--console-port", "0", "--ports-file", self.ports_file,
                "--etcd-endpoints", self.cluster.etcd.endpoint,
                "--node-id", self.node_id, "--advertise-addr", self.advertise_addr,
                "--cluster-name", self.cluster.name] + self.extra_args

    def start(self):
        """Starts the node and waits for its ports file and for a member key under a new
        lease (a predecessor killed with -9 may leave its key behind for a lease TTL)."""
        self.paused = False
        before = self.member()
        super().start()
        wanted = {"grpc": self.grpc_port, "kinesis": self.kinesis_port}
        if {k: self.ports[k] for k in wanted} != wanted:
            raise AssertionError(f"{self.node_id}'s ports file says {self.ports}, but it was "
                                 f"given {wanted}")
        try:
            wait_for(lambda: not self.alive() or self._registered(before), MEMBER_DEADLINE_S,
                     interval=0.05, what=f"{self.node_id}'s member key")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.log_tail()}") from None
        if not self.alive():
            raise AssertionError(f"{self.node_id} exited right after starting\n"
                                 + self.log_tail())
        return self

    def _registered(self, before):
        now = self.member()
        return now is not None and (before is None or now.lease != before.lease)

    def stop(self, timeout=30):
        if self.paused:
            self.resume()
        return super().stop(timeout)

    def pause(self):
        """SIGSTOP: the process keeps its sockets but runs nothing."""
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True
        self._append_log("=== paused with SIGSTOP\n")

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False
        self._append_log("=== resumed with SIGCONT\n")

    def member(self):
        """This node's member key (a KeyValue), or None."""
        return self.cluster.etcd.get(self.cluster.key(f"members/{self.node_id}"))

    def log_tail(self, limit=12000):
        return super().log_tail(limit).replace("riffled log", f"{self.node_id} log")

    def kinesis(self, attempts=3, **config):
        """A boto3 Kinesis client on this node; attempts=1 makes exactly one try."""
        key = ("cluster", attempts, tuple(sorted(config.items())))
        if key not in self._clients:
            cfg = dict(connect_timeout=5, read_timeout=20,
                       retries={"total_max_attempts": attempts, "mode": "standard"})
            cfg.update(config)
            self._clients[key] = boto3.session.Session().client(
                "kinesis", endpoint_url=self.endpoint, region_name=REGION,
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                config=Config(**cfg))
        return self._clients[key]


class Assignment(namedtuple("Assignment", "node epoch mod_revision")):
    """Which node owns a shard, and in which epoch."""


class Cluster:
    """An etcd and N riffled nodes n1..nN under one cluster name."""

    def __init__(self, size=3, name=None, node_args=()):
        self.name = name or f"test-{os.getpid()}-{int(time.time() * 1000) % 100000}"
        self.etcd = EtcdServer()
        self.nodes = {}
        try:
            self.etcd.start()
            for i in range(1, size + 1):
                node = ClusterNode(self, f"n{i}", node_args)
                self.nodes[node.node_id] = node
        except BaseException:
            self.cleanup()
            raise

    def start(self):
        """Starts n1 first (it becomes the controller), then the others; prints every log
        when one does not start."""
        try:
            ordered = list(self.nodes.values())
            ordered[0].start()
            wait_for(lambda: self.controller() is not None, MEMBER_DEADLINE_S, interval=0.05,
                     what="a controller key")
            for node in ordered[1:]:
                node.start()
        except BaseException:
            sys.stderr.write("cluster did not start\n" + self.logs() + "\n")
            raise
        return self

    def node(self, i):
        """Node n<i>."""
        return self.nodes[f"n{i}"]

    def key(self, suffix):
        return f"/riffle/{self.name}/{suffix}"

    def cleanup(self):
        """Kills every process and removes every directory; never raises."""
        for node in self.nodes.values():
            try:
                node.cleanup()
            except Exception:  # noqa: BLE001 - cleanup goes on
                pass
        self.etcd.cleanup()

    def stop_all(self):
        """SIGTERM to every running node; returns {node id: exit code} of those stopped."""
        return {n.node_id: n.stop() for n in self.nodes.values() if n.proc is not None}

    def logs(self):
        return "\n".join(n.log_tail() for n in self.nodes.values()) + \
            "\n----- etcd log (tail) -----\n" + self.etcd.log_tail()

    # -- cluster state in etcd ---------------------------------------------

    def members(self):
        """{node id: KeyValue} of the member keys."""
        prefix = self.key("members/")
        return {kv.key[len(prefix):]: kv for kv in self.etcd.range(prefix, prefix=True)}

    def controller(self):
        """The controller key's KeyValue, or None."""
        return self.etcd.get(self.key("controller"))

    def controller_id(self):
        """The node id the controller key names, or None."""
        kv = self.controller()
        if kv is None:
            return None
        text = kv.value.decode("utf-8", "replace")
        m = re.search(r"(?:^|\s)node=(\S+)", text)
        return m.group(1) if m else text.split()[0] if text.split() else text

    def stream_id(self, stream):
        """The id of a stream, read from its catalog value (version byte, then varint id)."""
        kv = self.etcd.get(self.key(f"catalog/stream/{stream}"))
        if kv is None:
            raise AssertionError(f"no catalog key {self.key('catalog/stream/' + stream)} "
                                 f"in etcd")
        value, _ = read_varint(kv.value, 1)
        return value

    def assignments(self, stream):
        """{shard ordinal: Assignment} of a stream's shard keys."""
        prefix = self.key("shards/%020d/" % self.stream_id(stream))
        out = {}
        for kv in self.etcd.range(prefix, prefix=True):
            rest = kv.key[len(prefix):]
            ordinal = int(rest.split("/")[0])
            text = kv.value.decode("utf-8", "replace")
            node = re.search(r"(?:^|\s)node=(\S+)", text)
            epoch = re.search(r"(?:^|\s)epoch=(\d+)", text)
            if not node or not epoch:
                raise AssertionError(f"shard key {kv.key} has value {text!r}, not "
                                     f"'node=<id> epoch=<n>'")
            out[ordinal] = Assignment(node.group(1), int(epoch.group(1)), kv.mod_revision)
        return out

    def owners(self, stream):
        """{shard ordinal: node id} of a stream."""
        return {o: a.node for o, a in self.assignments(stream).items()}


class ClusterPerTest:
    """unittest.TestCase mixin: each test gets a fresh cluster of three nodes started with
    the class's `node_args`; its logs are printed when the test fails, and every node must
    exit 0 on SIGTERM at the end."""

    node_args = ()

    def setUp(self):
        super().setUp()
        self.cluster = Cluster(size=3, node_args=self.node_args)
        self.addCleanup(self.cluster.cleanup)
        self.start_cluster()

    def start_cluster(self):
        """Starts every node; a test class may start fewer."""
        self.cluster.start()

    def tearDown(self):
        if self._failed():
            sys.stderr.write(f"\n{self.id()} failed; logs follow\n{self.cluster.logs()}\n")
        for node in self.cluster.nodes.values():
            if node.paused:
                node.resume()
        codes = {n.node_id: n.stop() for n in self.cluster.nodes.values() if n.proc is not None}
        bad = {n: rc for n, rc in codes.items() if rc != 0}
        self.assertEqual(bad, {}, "nodes must exit 0 on SIGTERM")
        super().tearDown()

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return any(test is self for test, _ in result.failures + result.errors)


def read_whole_shard(client, stream, shard):
    """Every record of a shard from TRIM_HORIZON, waiting out read throttling. Returns
    (records, ended, children): a closed shard read to its end has no next iterator and
    names its children; an open one is read until an empty batch at its tip."""
    it = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = []
    for _ in range(10000):
        try:
            out = client.get_records(ShardIterator=it, Limit=10000)
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ProvisionedThroughputExceededException":
                time.sleep(0.3)
                continue
            raise
        records.extend(out["Records"])
        it = out.get("NextShardIterator")
        if it is None:
            return records, True, [c["ShardId"] for c in out.get("ChildShards", [])]
        if not out["Records"] and out.get("MillisBehindLatest", 0) == 0:
            return records, False, []
    raise AssertionError(f"{shard} of {stream} never reached its tip")
