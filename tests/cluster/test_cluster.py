"""Cluster mode end to end: a real etcd and three riffled nodes on loopback.

One cluster (n1 started first, so it becomes the controller, then n2 and n3)
serves every test of ClusterTest; a test that stops, kills or pauses a node
brings it back before the next one starts. Each test creates its own streams.
Cluster state is read from etcd's keys under /riffle/<cluster name>/:
members/<node id>, controller, catalog/stream/<name> and
shards/<stream id>/<ordinal> ("node=<id> epoch=<n>").

StartupErrorTest needs no cluster: a node that cannot reach etcd must exit.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import botocore.exceptions

from harness import (UNAVAILABLE_CODES, Cluster, ClusterNode, cli_major_version, free_port,
                     event_queue, events_until, hash_key, initial_ranges, riffled_path, shard_for,
                     shard_id, wait_for)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# The seed tutorial check of the shared folder beside the checkout.
SEED_CHECK_CANDIDATES = [
    os.path.join(os.path.dirname(REPO), "shared", "checks", "seed_tutorial.py"),
    "/work/shared/checks/seed_tutorial.py",
]
LEASE_TTL_S = 2
EXIT_DEADLINE_S = 15


def error_code(e):
    return e.response.get("Error", {}).get("Code")


def throttled(call, **kwargs):
    """Calls `call`, waiting out ProvisionedThroughputExceeded (5 reads/s per shard) as a
    consumer does: the tests read each shard through several nodes in quick succession."""
    for _ in range(50):
        try:
            return call(**kwargs)
        except botocore.exceptions.ClientError as e:
            if error_code(e) != "ProvisionedThroughputExceededException":
                raise
            time.sleep(0.25)
    raise AssertionError(f"still throttled after 50 tries: {call.__name__}({kwargs})")


def read_all_records(client, stream, shard):
    """Reads a shard from TRIM_HORIZON until an empty batch at the tip."""
    it = throttled(client.get_shard_iterator, StreamName=stream, ShardId=shard,
                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = []
    for _ in range(10000):
        out = throttled(client.get_records, ShardIterator=it, Limit=10000)
        records.extend(out["Records"])
        it = out["NextShardIterator"]
        if not out["Records"] and out.get("MillisBehindLatest", 0) == 0:
            return records
    raise AssertionError(f"{shard} of {stream} never reached its tip")


class Ledger:
    """Every record sent and every acknowledgement, to check a stream against."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()   # data of every record sent, acknowledged or not
        self.acked = {}     # data -> (shard id, sequence number, partition key)
        self.ack_order = []  # (shard id, sequence number) in the order one producer got them

    def send(self, data):
        with self.lock:
            self.sent.add(data)

    def ack(self, data, shard, seq, partition_key, ordered=True):
        with self.lock:
            assert data not in self.acked, f"{data} acknowledged twice"
            self.acked[data] = (shard, seq, partition_key)
            if ordered:
                self.ack_order.append((shard, seq))


class ClusterTestBase(unittest.TestCase):
    """Starts one cluster for the class and keeps all its nodes running between tests."""

    cluster = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = Cluster(size=3, node_args=("--replication-factor", "1"))
        cls.addClassCleanup(cls.cluster.cleanup)
        cls.cluster.start()

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop_all()
        bad = {n: rc for n, rc in codes.items() if rc != 0}
        if bad:
            sys.stderr.write(cls.cluster.logs() + "\n")
            raise AssertionError(f"nodes must exit 0 on SIGTERM; exit codes: {bad}")
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.n1, self.n2, self.n3 = (self.cluster.node(i) for i in (1, 2, 3))

    def tearDown(self):
        try:
            died = [n for n in self.cluster.nodes.values()
                    if n.proc is not None and n.proc.poll() is not None]
            if died:
                self.fail("nodes died during the test: " + ", ".join(
                    f"{n.node_id} (exit {n.proc.returncode})" for n in died))
        finally:
            if self._failed():
                sys.stderr.write(f"\n{self.id()} failed; logs follow\n{self.cluster.logs()}\n")
            self.restore_nodes()
        super().tearDown()

    def restore_nodes(self):
        """Resumes paused nodes and starts stopped ones, so the next test has three."""
        for node in self.cluster.nodes.values():
            if node.paused:
                node.resume()
            if node.proc is not None and node.proc.poll() is not None:
                node.proc = None
            if node.proc is None:
                node.start()
        wait_for(lambda: len(self.cluster.members()) == len(self.cluster.nodes), 15,
                 interval=0.05, what="every node's member key after the test")

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if hasattr(outcome, "errors"):  # Python < 3.11
            return any(exc is not None for _, exc in outcome.errors)
        return not getattr(outcome, "success", True)

    # -- helpers --------------------------------------------------------------

    def unique_name(self, prefix="c"):
        return f"{prefix}-{self._testMethodName[5:30]}-{uuid.uuid4().hex[:6]}"

    def non_controller(self, prefer=(), exclude=()):
        """A running node that is not the controller: the first of `prefer` that fits."""
        controller = self.cluster.controller_id()
        candidates = [self.cluster.nodes[n] for n in prefer] + list(self.cluster.nodes.values())
        for node in candidates:
            if node.node_id != controller and node.node_id not in exclude:
                return node
        self.fail(f"no node other than the controller {controller} (excluding {exclude})")

    def create_stream(self, via, shards, name=None):
        """Creates a stream through node `via` and waits until every node sees it ACTIVE."""
        name = name or self.unique_name()
        via.kinesis().create_stream(StreamName=name, ShardCount=shards)
        self.wait_active(name)
        return name

    def wait_active(self, name, timeout=15):
        for node in self.cluster.nodes.values():
            def active(node=node):
                try:
                    s = node.kinesis().describe_stream_summary(StreamName=name)
                except botocore.exceptions.ClientError as e:
                    if error_code(e) == "ResourceNotFoundException":
                        return False
                    raise
                return s["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
            wait_for(active, timeout, interval=0.05, what=f"{name} ACTIVE on {node.node_id}")

    def wait_gone(self, name, timeout=15):
        for node in self.cluster.nodes.values():
            def gone(node=node):
                try:
                    node.kinesis().describe_stream_summary(StreamName=name)
                except botocore.exceptions.ClientError as e:
                    if error_code(e) == "ResourceNotFoundException":
                        return True
                    raise
                return False
            wait_for(gone, timeout, interval=0.05, what=f"{name} deleted on {node.node_id}")

    def owners(self, stream, shards):
        """{ordinal: node id}, once all `shards` shard keys exist."""
        return wait_for(lambda: (lambda o: o if len(o) == shards else None)(
            self.cluster.owners(stream)), 10, interval=0.05,
            what=f"{shards} shard keys of {stream}")

    def put_to_shard(self, client, stream, shards, ordinal, ledger, tag):
        """PutRecord aimed at one shard with ExplicitHashKey; logs it; returns the answer."""
        data = f"{tag}-{uuid.uuid4().hex}"
        pk = f"pk-{uuid.uuid4().hex[:8]}"
        ledger.send(data)
        out = client.put_record(StreamName=stream, Data=data.encode(), PartitionKey=pk,
                                ExplicitHashKey=str(initial_ranges(shards)[ordinal][0]))
        self.assertEqual(out["ShardId"], shard_id(ordinal), f"ExplicitHashKey missed: {out}")
        ledger.ack(data, out["ShardId"], out["SequenceNumber"], pk)
        return out

    def assertUnavailable(self, call, what):
        """The call fails with ServiceUnavailable or InternalFailure."""
        try:
            out = call()
        except botocore.exceptions.ClientError as e:
            self.assertIn(error_code(e), UNAVAILABLE_CODES, f"{what}: {e.response}")
            return e
        self.fail(f"{what} succeeded, but must fail with ServiceUnavailable or "
                  f"InternalFailure: {out}")

    def read_stream(self, client, stream, shards):
        """{shard id: [records]} of every shard, read from TRIM_HORIZON to the tip."""
        return {shard_id(i): read_all_records(client, stream, shard_id(i))
                for i in range(shards)}

    def verify(self, client, stream, shards, ledger, where=""):
        """Every acknowledged record exactly once, at its sequence number and on its shard;
        shards strictly ordered; nothing that was never sent; an unacknowledged record at
        most once. Returns {data: (shard id, sequence number)} of what was read."""
        found = {}
        for sid, records in self.read_stream(client, stream, shards).items():
            seqs = [int(r["SequenceNumber"]) for r in records]
            self.assertEqual(seqs, sorted(set(seqs)), f"{where}: {sid} not strictly ordered")
            for r in records:
                data = r["Data"].decode()
                self.assertNotIn(data, found, f"{where}: {data} read twice")
                found[data] = (sid, r["SequenceNumber"], r["PartitionKey"])
        self.assertEqual(set(found) - ledger.sent, set(), f"{where}: records never sent")
        wrong = {d: (v, found.get(d)) for d, v in ledger.acked.items() if found.get(d) != v}
        self.assertEqual(wrong, {}, f"{where}: acknowledged records lost or changed "
                                    f"(data: (acknowledged, read))")
        for sid in {s for s, _ in ledger.ack_order}:
            mine = [int(q) for s, q in ledger.ack_order if s == sid]
            self.assertEqual(mine, sorted(mine), f"{where}: later acknowledgements on {sid} "
                                                 f"got smaller sequence numbers")
        return found


class ClusterTest(ClusterTestBase):

    def test_1_three_nodes_register_and_one_controller(self):
        """Each node holds a member key under its own lease of 2 s, and exactly one
        controller key exists, leased, naming a member."""
        members = self.cluster.members()
        self.assertEqual(sorted(members), ["n1", "n2", "n3"], f"member keys: {members}")
        leases = {n: kv.lease for n, kv in members.items()}
        self.assertTrue(all(leases.values()), f"member keys must be leased: {leases}")
        self.assertEqual(len(set(leases.values())), 3, f"each node has its own lease: {leases}")
        for node, lease in leases.items():
            ttl, granted = self.cluster.etcd.lease_ttl(lease)
            self.assertEqual(granted, LEASE_TTL_S, f"{node}'s lease TTL")
            self.assertGreater(ttl, 0, f"{node}'s lease is alive")
        controllers = self.cluster.etcd.range(self.cluster.key("controller"), prefix=True)
        self.assertEqual([kv.key for kv in controllers], [self.cluster.key("controller")],
                         "exactly one controller key")
        self.assertIn(self.cluster.controller_id(), members, "the controller is a member")
        self.assertIn(controllers[0].lease, leases.values(),
                      "the controller key lives under its node's lease")
        self.assertEqual(self.cluster.controller_id(), "n1", "the first node is the controller")

    def test_2_create_through_a_non_controller_spreads_shards(self):
        """CreateStream through a node that is not the controller places 12 shards on all
        three nodes (at least 2 each), and every node lists and describes the stream."""
        via = self.non_controller(prefer=["n2"])
        name = self.create_stream(via, 12)
        assignments = wait_for(lambda: (lambda a: a if len(a) == 12 else None)(
            self.cluster.assignments(name)), 10, what="12 shard keys")
        self.assertEqual(sorted(assignments), list(range(12)))
        self.assertTrue(all(a.epoch >= 1 for a in assignments.values()),
                        f"epochs start at 1: {assignments}")
        per_node = {n: sum(1 for a in assignments.values() if a.node == n)
                    for n in self.cluster.nodes}
        self.assertEqual(sum(per_node.values()), 12, f"shards on unknown nodes: {assignments}")
        self.assertTrue(all(c >= 2 for c in per_node.values()),
                        f"12 shards must spread over 3 nodes, each with >= 2: {per_node}")
        ranges = initial_ranges(12)
        for node in self.cluster.nodes.values():
            with self.subTest(node=node.node_id):
                names = node.kinesis().list_streams()["StreamNames"]
                self.assertIn(name, names)
                d = node.kinesis().describe_stream(StreamName=name)["StreamDescription"]
                self.assertEqual(d["StreamStatus"], "ACTIVE")
                self.assertEqual([s["ShardId"] for s in d["Shards"]],
                                 [shard_id(i) for i in range(12)])
                self.assertEqual([(int(s["HashKeyRange"]["StartingHashKey"]),
                                   int(s["HashKeyRange"]["EndingHashKey"]))
                                  for s in d["Shards"]], ranges)
                self.assertEqual(node.kinesis().describe_stream_summary(StreamName=name)
                                 ["StreamDescriptionSummary"]["OpenShardCount"], 12)

    def test_3_writes_through_one_node_read_back_through_another(self):
        """300 records put through n1 (PutRecord and PutRecords, random partition keys) into
        a 12-shard stream spread over all nodes are read through n3 exactly once each, in
        order per shard, on the shard their key hashes to, at the acknowledged sequence
        numbers."""
        shards = 12
        name = self.create_stream(self.n1, shards)
        self.assertEqual(set(self.owners(name, shards).values()), {"n1", "n2", "n3"})
        ranges = initial_ranges(shards)
        ledger = Ledger()
        put = self.n1.kinesis(attempts=1)
        for i in range(100):
            pk = uuid.uuid4().hex
            data = f"single-{i}-{pk}"
            ledger.send(data)
            out = put.put_record(StreamName=name, Data=data.encode(), PartitionKey=pk)
            self.assertEqual(out["ShardId"], shard_id(shard_for(hash_key(pk), ranges)))
            ledger.ack(data, out["ShardId"], out["SequenceNumber"], pk)
        for b in range(4):
            batch = [(f"batch-{b}-{j}-{uuid.uuid4().hex}", uuid.uuid4().hex) for j in range(50)]
            for data, _ in batch:
                ledger.send(data)
            out = put.put_records(StreamName=name, Records=[
                {"Data": d.encode(), "PartitionKey": pk} for d, pk in batch])
            self.assertEqual(out.get("FailedRecordCount", 0), 0, f"PutRecords: {out}")
            self.assertEqual(len(out["Records"]), len(batch))
            for (data, pk), r in zip(batch, out["Records"]):
                self.assertEqual(r["ShardId"], shard_id(shard_for(hash_key(pk), ranges)))
                ledger.ack(data, r["ShardId"], r["SequenceNumber"], pk)
        self.assertEqual(len(ledger.acked), 300)
        found = self.verify(self.n3.kinesis(), name, shards, ledger, "read through n3")
        self.assertEqual(len(found), 300)

    def find_stream_owned_elsewhere(self, via, prefix):
        """Creates 1-shard streams through `via` until one's shard is owned by another node
        (at most 10); returns (its name, its owner).

        Streams that landed on `via` stay until the end of the test: placement is least
        loaded first, so deleting and recreating one would only land it on `via` again."""
        placed_on_via = []
        self.addCleanup(self.delete_streams, via, placed_on_via)
        for attempt in range(10):
            name = f"{prefix}-{attempt}"
            self.create_stream(via, 1, name=name)
            owner = self.owners(name, 1)[0]
            if owner != via.node_id:
                return name, owner
            placed_on_via.append(name)
        self.fail(f"10 1-shard streams created through {via.node_id} all placed their shard "
                  f"on {via.node_id}")

    def delete_streams(self, via, names):
        for name in names:
            via.kinesis().delete_stream(StreamName=name)
        for name in names:
            self.wait_gone(name)

    def test_3b_subscribe_to_shard_through_a_node_without_the_shard(self):
        """SubscribeToShard through a node that holds no copy of the shard is forwarded to the
        owner: records put before and while subscribed arrive once each, in order, soon; the
        continuation sequence number is the last record's, and subscribing again after it
        starts at the next record."""
        name, owner = self.find_stream_owned_elsewhere(self.n1, self.unique_name("sub"))
        client = self.n1.kinesis()

        def delete():  # later tests count the shards each node holds
            client.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
            self.wait_gone(name)
        self.addCleanup(delete)
        arn = client.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamARN"]
        # One consumer per subscription: a consumer may subscribe to a shard again only 5 s
        # after its last subscription there.
        consumers = [client.register_stream_consumer(StreamARN=arn, ConsumerName=f"tail-{i}")[
            "Consumer"]["ConsumerARN"] for i in range(3)]
        for consumer in consumers:
            wait_for(lambda c=consumer: client.describe_stream_consumer(ConsumerARN=c)[
                "ConsumerDescription"]["ConsumerStatus"] == "ACTIVE", 20, what="the consumer")
        writer = self.cluster.nodes[owner].kinesis()
        acked = [writer.put_record(StreamName=name, Data=f"before-{i}".encode(),
                                   PartitionKey="k")["SequenceNumber"] for i in range(3)]

        def subscribe(consumer, position):
            response = client.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard_id(0),
                                                 StartingPosition=position)
            self.addCleanup(response["EventStream"].close)
            return event_queue(response)

        def read(events, count, seconds):
            got, last = [], None
            for last in events_until(events, lambda: len(got) >= count, seconds, lambda: got):
                got.extend((r["Data"], r["SequenceNumber"]) for r in last["Records"])
            return got, last

        events = subscribe(consumers[0], {"Type": "TRIM_HORIZON"})
        got, _ = read(events, 3, 10)
        self.assertEqual(got, [(f"before-{i}".encode(), acked[i]) for i in range(3)])
        sent = time.monotonic()
        live = writer.put_record(StreamName=name, Data=b"live", PartitionKey="k")
        got, last = read(events, 1, 5)
        self.assertEqual(got, [(b"live", live["SequenceNumber"])])
        self.assertLess(time.monotonic() - sent, 2.0)
        self.assertEqual(last["ContinuationSequenceNumber"], live["SequenceNumber"])

        after = writer.put_record(StreamName=name, Data=b"after", PartitionKey="k")
        again = subscribe(consumers[1], {"Type": "AFTER_SEQUENCE_NUMBER",
                                         "SequenceNumber": last["ContinuationSequenceNumber"]})
        got, _ = read(again, 1, 10)
        self.assertEqual(got[0], (b"after", after["SequenceNumber"]))

        # LATEST starts at the owner's end, not at this node's (empty) copy of the shard.
        latest = subscribe(consumers[2], {"Type": "LATEST"})
        first = latest.get(timeout=10)
        self.assertIsInstance(first, dict, f"the subscription ended: {first!r}")
        self.assertEqual(first["SubscribeToShardEvent"]["Records"], [])
        newest = writer.put_record(StreamName=name, Data=b"newest", PartitionKey="k")
        got, _ = read(latest, 1, 5)
        self.assertEqual(got, [(b"newest", newest["SequenceNumber"])])

    def test_4_seed_tutorial_through_node1_on_a_remote_shard(self):
        """The tutorial's CLI walk (describe-stream-summary, put-record, get-shard-iterator,
        get-records, delete-stream) through n1 works on a stream whose only shard lives on
        another node."""
        name, owner = self.find_stream_owned_elsewhere(self.n1, self.unique_name("seed"))
        self.assertNotEqual(owner, "n1")
        n1 = self.n1
        summary = n1.aws_json("kinesis", "describe-stream-summary", "--stream-name", name)
        d = summary["StreamDescriptionSummary"]
        self.assertEqual((d["StreamName"], d["StreamStatus"], d["OpenShardCount"]),
                         (name, "ACTIVE", 1))
        put = n1.aws_json("kinesis", "put-record", "--stream-name", name, "--partition-key",
                          "user-1", "--data", "SGVsbG8gS2luZXNpcw==")
        self.assertEqual(put["ShardId"], "shardId-000000000000")
        self.assertRegex(put["SequenceNumber"], r"^\d+$")
        it = n1.aws_json("kinesis", "get-shard-iterator", "--stream-name", name, "--shard-id",
                         "shardId-000000000000", "--shard-iterator-type",
                         "TRIM_HORIZON")["ShardIterator"]
        got = n1.aws_json("kinesis", "get-records", "--shard-iterator", it)
        self.assertIn("NextShardIterator", got)
        self.assertEqual([(r["PartitionKey"], r["SequenceNumber"]) for r in got["Records"]],
                         [("user-1", put["SequenceNumber"])], got)
        # awscli v1 base64-encodes --data once more; v2 sends the decoded bytes.
        data = b"Hello Kinesis" if cli_major_version() >= 2 else b"SGVsbG8gS2luZXNpcw=="
        for node in self.cluster.nodes.values():
            recs = read_all_records(node.kinesis(), name, "shardId-000000000000")
            self.assertEqual([(r["SequenceNumber"], r["Data"]) for r in recs],
                             [(put["SequenceNumber"], data)], f"read through {node.node_id}")
        out = n1.aws("kinesis", "delete-stream", "--stream-name", name)
        self.assertEqual(out.stdout.strip(), "", "delete-stream prints nothing")
        self.wait_gone(name)

    def test_4b_seed_check_script_against_node1(self):
        """The shared seed tutorial check (its own copy of the tutorial's blocks) passes
        against n1's endpoint."""
        script = next((p for p in SEED_CHECK_CANDIDATES if os.path.isfile(p)), None)
        if script is None:
            self.skipTest("the seed tutorial check is absent (looked for "
                          + " and ".join(SEED_CHECK_CANDIDATES) + ")")
        p = subprocess.run([sys.executable, script, "--endpoint", self.n1.endpoint, "--fast"],
                           env=self.n1.cli_env(), capture_output=True, text=True, timeout=240)
        out = p.stdout + p.stderr
        self.assertIn("9 passed, 0 failed", out, f"{script} against n1:\n{out}")
        self.assertEqual(p.returncode, 0, out)

    def test_5_kill9_makes_shards_unavailable_until_the_owner_returns(self):
        """kill -9 of a shard's owner: puts to its shards through the other nodes fail with
        ServiceUnavailable/InternalFailure (also once its lease is gone), puts to other shards
        still succeed; after a restart on the same data dir and id, every acknowledged record
        is read back and its shards take writes again."""
        shards = 6
        name = self.create_stream(self.n1, shards)
        owners = self.owners(name, shards)
        victim = self.non_controller(prefer=["n2", "n3"], exclude=["n1"])
        dead = [o for o, n in owners.items() if n == victim.node_id]
        alive = [o for o, n in owners.items() if n != victim.node_id]
        self.assertTrue(dead and alive, f"placement {owners} gives {victim.node_id} none or all")
        ledger = Ledger()
        for o in range(shards):
            for _ in range(5):
                self.put_to_shard(self.n1.kinesis(attempts=1), name, shards, o, ledger, "pre")

        victim.kill9()
        entries = [n for n in self.cluster.nodes.values() if n is not victim]
        for phase in ("right after kill -9", "after its lease expired"):
            if phase == "after its lease expired":
                wait_for(lambda: victim.member() is None, LEASE_TTL_S + 3, interval=0.05,
                         what=f"{victim.node_id}'s member key to expire")
            for entry in entries:
                client = entry.kinesis(attempts=1)
                for o in dead:
                    self.assertUnavailable(
                        lambda: self.put_to_shard(client, name, shards, o, ledger, "lost"),
                        f"{phase}: put through {entry.node_id} to {shard_id(o)} on the dead "
                        f"{victim.node_id}")
                for o in alive:
                    self.put_to_shard(client, name, shards, o, ledger, f"live-{entry.node_id}")

        victim.start()
        client = self.n1.kinesis(attempts=1)

        def writable():
            try:
                return self.put_to_shard(client, name, shards, dead[0], ledger, "back")
            except botocore.exceptions.ClientError as e:
                if error_code(e) in UNAVAILABLE_CODES:
                    return None
                raise
        wait_for(writable, 15, interval=0.1, what=f"{shard_id(dead[0])} to take writes again")
        for o in dead:
            self.put_to_shard(client, name, shards, o, ledger, "after")
        self.verify(self.n1.kinesis(), name, shards, ledger, "after the restart, through n1")
        self.verify(victim.kinesis(), name, shards, ledger,
                    f"after the restart, through {victim.node_id}")

    def test_6_a_paused_owner_is_fenced_until_it_registers_again(self):
        """SIGSTOP a shard's owner for 4 s (lease 2 s): its member key expires; writes that
        reach it while its lease is gone fail; within 10 s of SIGCONT it has registered
        again under a new lease and its shards take writes; nothing acknowledged is lost or
        duplicated."""
        shards = 3
        name = self.create_stream(self.n1, shards)
        owners = self.owners(name, shards)
        victim = self.non_controller(prefer=["n2", "n3"])
        mine = [o for o, n in owners.items() if n == victim.node_id]
        self.assertTrue(mine, f"placement {owners} gives {victim.node_id} no shard")
        target = mine[0]
        ledger = Ledger()
        for _ in range(10):
            self.put_to_shard(victim.kinesis(attempts=1), name, shards, target, ledger, "pre")
        old_lease = victim.member().lease

        # Writes sent while the node is stopped wait in its sockets and meet the node
        # right after SIGCONT, when its lease is long gone.
        queued, outcomes = [], []
        clients = [victim.kinesis(attempts=1, read_timeout=30, user_agent_extra=f"q{i}")
                   for i in range(3)]
        for c in clients:  # connect before the pause
            c.describe_stream_summary(StreamName=name)

        def queued_put(c):
            data = f"queued-{uuid.uuid4().hex}"
            pk = "pk-queued"
            ledger.send(data)
            try:
                out = c.put_record(StreamName=name, Data=data.encode(), PartitionKey=pk,
                                   ExplicitHashKey=str(initial_ranges(shards)[target][0]))
                ledger.ack(data, out["ShardId"], out["SequenceNumber"], pk, ordered=False)
                outcomes.append("ok")
            except botocore.exceptions.ClientError as e:
                outcomes.append(error_code(e))
            except botocore.exceptions.BotoCoreError as e:
                outcomes.append(repr(e))

        victim.pause()
        paused_at = time.monotonic()
        for c in clients:
            t = threading.Thread(target=queued_put, args=(c,))
            t.start()
            queued.append(t)
        wait_for(lambda: victim.member() is None, 3.5, interval=0.05,
                 what=f"{victim.node_id}'s member key to expire while it is stopped")
        time.sleep(max(0.0, 4.0 - (time.monotonic() - paused_at)))
        victim.resume()
        resumed_at = time.monotonic()
        for t in queued:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in queued), "a queued write never returned")
        self.assertTrue(all(o == "ok" or o in UNAVAILABLE_CODES for o in outcomes),
                        f"queued writes: {outcomes}")
        self.assertIn(True, [o in UNAVAILABLE_CODES for o in outcomes],
                      f"writes that met {victim.node_id} before it registered again must "
                      f"fail; outcomes: {outcomes}")

        client = victim.kinesis(attempts=1)
        refused = []

        def writable():
            try:
                return self.put_to_shard(client, name, shards, target, ledger, "after")
            except botocore.exceptions.ClientError as e:
                if error_code(e) in UNAVAILABLE_CODES:
                    refused.append(error_code(e))
                    return None
                raise
        wait_for(writable, 10, interval=0.05,
                 what=f"{victim.node_id} to take writes on {shard_id(target)} after SIGCONT")
        print(f"{victim.node_id} took writes again {time.monotonic() - resumed_at:.2f}s "
              f"after SIGCONT; queued: {outcomes}; refused after: {len(refused)}", flush=True)
        member = victim.member()
        self.assertIsNotNone(member, f"{victim.node_id} serves without a member key")
        self.assertNotEqual(member.lease, old_lease,
                            f"{victim.node_id} must register again under a new lease")
        for _ in range(10):
            self.put_to_shard(client, name, shards, target, ledger, "later")
        for node in self.cluster.nodes.values():
            self.verify(node.kinesis(), name, shards, ledger, f"read through {node.node_id}")

    def test_7b_a_second_node_with_a_live_node_id_refuses_to_start(self):
        """A riffled started with the id of a live node (own data dir and ports) exits
        non-zero, saying so, and the live node keeps its registration."""
        live = self.n2
        before = live.member()
        impostor = ClusterNode(self.cluster, live.node_id)
        self.addCleanup(impostor.cleanup)
        started = time.monotonic()
        try:
            p = subprocess.run(impostor.command(), capture_output=True, text=True,
                               timeout=EXIT_DEADLINE_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail(f"a second {live.node_id} still runs after {EXIT_DEADLINE_S}s: "
                      f"{e.stdout!r} {e.stderr!r}")
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, f"a second {live.node_id} started:\n{out}")
        self.assertRegex(out, r"(?i)node[ _-]?id", f"the message must name the node id:\n{out}")
        self.assertIn(live.node_id, out)
        print(f"duplicate {live.node_id} refused after {time.monotonic() - started:.1f}s: "
              f"{out.strip().splitlines()[-1] if out.strip() else ''}", flush=True)
        after = live.member()
        self.assertIsNotNone(after, f"{live.node_id} lost its member key")
        self.assertEqual(after.lease, before.lease, f"{live.node_id}'s member key changed")
        self.assertTrue(live.alive())

    def test_8_sigterm_removes_the_member_key_at_once(self):
        """SIGTERM makes a node leave: its member key is gone as it exits (after handing
        over its shards), not when its 2 s lease runs out, and the node exits 0."""
        node = self.non_controller(prefer=["n3"])
        self.assertIsNotNone(node.member())
        owned = sum(1 for kv in self.cluster.etcd.range(self.cluster.key("shards/"), prefix=True)
                    if f"node={node.node_id} " in kv.value.decode() + " ")
        signalled = time.monotonic()
        node.proc.send_signal(signal.SIGTERM)
        gone_at = None
        while node.proc.poll() is None and time.monotonic() - signalled < 30:
            if gone_at is None and node.member() is None:
                gone_at = time.monotonic()
            time.sleep(0.01)
        exited_at = time.monotonic()
        rc = node.proc.poll()
        if rc is None:
            node.kill9()
            self.fail(f"{node.node_id} did not exit within 30 s of SIGTERM")
        node.proc = None
        if gone_at is None and node.member() is None:
            gone_at = time.monotonic()
        print(f"{node.node_id} owned {owned} shards; member key gone "
              f"{(gone_at or exited_at) - signalled:.2f}s and process exited "
              f"{exited_at - signalled:.2f}s after SIGTERM", flush=True)
        self.assertEqual(rc, 0, f"{node.node_id} exit code after SIGTERM")
        self.assertIsNotNone(gone_at, f"{node.node_id}'s member key outlived the process")
        # Within 1.5 s of SIGTERM the lease cannot have expired; a node that first drains
        # its shards for longer must drop its key as it exits, not somewhere in between.
        self.assertTrue(gone_at - signalled < 1.5 or exited_at - gone_at <= 0.5,
                        f"the member key went {gone_at - signalled:.2f}s after SIGTERM, the "
                        f"process exited after {exited_at - signalled:.2f}s: that is lease "
                        f"expiry, not leaving")
        self.assertIsNotNone(self.cluster.controller(), "the controller key must stay")


class StartupErrorTest(unittest.TestCase):

    def test_7a_etcd_unreachable_at_start_exits_non_zero(self):
        """With nothing listening at --etcd-endpoints, riffled exits non-zero within 15 s
        and says that etcd is unreachable (riffled logs to stdout, so both streams count)."""
        riffled = riffled_path()
        dead = f"http://127.0.0.1:{free_port()}"
        work = tempfile.mkdtemp(prefix="riffle-cluster-noetcd-")
        self.addCleanup(shutil.rmtree, work, True)
        grpc = free_port()
        cmd = [riffled, "--data-dir", os.path.join(work, "data"), "--bind", "127.0.0.1",
               "--kinesis-port", "0", "--grpc-port", str(grpc), "--metrics-port", "0",
               "--ports-file", os.path.join(work, "ports.json"), "--etcd-endpoints", dead,
               "--node-id", "n1", "--advertise-addr", f"127.0.0.1:{grpc}",
               "--cluster-name", "unreachable"]
        started = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=EXIT_DEADLINE_S,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail(f"riffled still runs {EXIT_DEADLINE_S}s after starting without etcd: "
                      f"{e.stdout!r} {e.stderr!r}")
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, f"riffled started without etcd:\n{out}")
        # Not merely the flag's name: a binary without cluster mode rejects the flag itself.
        self.assertRegex(out, r"(?i)\betcd\b(?![-_]endpoints)",
                         f"the message must say that etcd is the problem:\n{out}")
        self.assertIn(dead.split("//")[1], out, f"the message should name the endpoint:\n{out}")
        print(f"exit {p.returncode} after {time.monotonic() - started:.1f}s: "
              f"{out.strip().splitlines()[-1] if out.strip() else ''}", flush=True)


if __name__ == "__main__":
    unittest.main()
