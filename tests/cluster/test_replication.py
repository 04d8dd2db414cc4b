"""Replication end to end: a real etcd and three riffled nodes, every shard on all three.

Producers write through every node while the test kills -9, pauses or wipes nodes. The
ledger keeps every acknowledged record (its data, shard and sequence number); afterwards
every acknowledged record must be read back exactly once, at its sequence number, in
sequence order per shard, through every node.

RIFFLE_KILL_CYCLES sets the number of leader kills of the kill loop (default 4; the long
run in docs/cluster.md used 200).
"""

import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import unittest
import uuid

import botocore.exceptions

from harness import (UNAVAILABLE_CODES, ClusterPerTest, event_queue, events_until,
                     read_whole_shard, shard_id, wait_for)
from test_status import cluster_status

LEASE_TTL_S = 2
SHARDS = 2
KILL_CYCLES = int(os.environ.get("RIFFLE_KILL_CYCLES", "4"))


def error_code(e):
    return e.response.get("Error", {}).get("Code")


class Ledger:
    """What the producers sent and what was acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}  # data -> (shard id, sequence number)
        self.sent = set()

    def ack(self, data, shard, seq):
        with self.lock:
            assert data not in self.acked, f"{data} acknowledged twice"
            self.acked[data] = (shard, seq)


class Producer(threading.Thread):
    """Puts records through a rotating entry node, retrying what fails with a new record (a
    failed put may or may not be stored; each attempt has its own data). With `batch` > 1 it
    sends PutRecords of that many records, each entry acknowledged on its own."""

    def __init__(self, cluster, stream, ledger, name, batch=1):
        super().__init__(daemon=True)
        self.cluster, self.stream, self.ledger, self.label = cluster, stream, ledger, name
        self.batch = batch
        self.stop = threading.Event()
        self.errors = []
        self.count = 0

    def run(self):
        try:
            self.produce()
        except BaseException as e:  # noqa: BLE001 - stop_producers reports it
            self.errors.append(f"producer {self.label} died: {e!r}")

    def produce(self):
        nodes = list(self.cluster.nodes.values())
        i = 0
        while not self.stop.is_set():
            node = nodes[i % len(nodes)]
            i += 1
            if node.proc is None or node.paused or node.ports is None:
                continue  # down, or starting
            records = [(f"{self.label}-{i}-{j}-{uuid.uuid4().hex[:8]}", f"key-{(i + j) % 16}")
                       for j in range(self.batch)]
            with self.ledger.lock:
                self.ledger.sent.update(data for data, _ in records)
            client = node.kinesis(attempts=1, connect_timeout=1, read_timeout=8)
            try:
                if self.batch == 1:
                    data, key = records[0]
                    out = client.put_record(StreamName=self.stream, Data=data.encode(),
                                            PartitionKey=key)
                    answers = [out]
                else:
                    answers = client.put_records(StreamName=self.stream, Records=[
                        {"Data": data.encode(), "PartitionKey": key} for data, key in records
                    ])["Records"]
                for (data, _), answer in zip(records, answers):
                    if "SequenceNumber" in answer:
                        self.ledger.ack(data, answer["ShardId"], answer["SequenceNumber"])
                        self.count += 1
                    elif answer.get("ErrorCode") not in UNAVAILABLE_CODES + (
                            "ProvisionedThroughputExceededException",):
                        self.errors.append(repr(answer))
            except botocore.exceptions.ClientError as e:
                if error_code(e) not in UNAVAILABLE_CODES + (
                        "ProvisionedThroughputExceededException",):
                    self.errors.append(repr(e))
                time.sleep(0.02)
            except (botocore.exceptions.EndpointConnectionError,
                    botocore.exceptions.ReadTimeoutError,
                    botocore.exceptions.ConnectionClosedError):
                time.sleep(0.02)


def start_producers(cluster, stream, ledger, count=2, batch=1):
    label = "p" if batch == 1 else "b"
    producers = [Producer(cluster, stream, ledger, f"{label}{i}", batch) for i in range(count)]
    for p in producers:
        p.start()
    return producers


def stop_producers(test, producers):
    """Stops the producers; `test` fails if they met errors other than unavailability.
    Returns how many records they had acknowledged."""
    for p in producers:
        p.stop.set()
    for p in producers:
        p.join(30)
    errors = [e for p in producers for e in p.errors]
    test.assertEqual(errors, [], "producers got errors other than unavailability")
    return sum(p.count for p in producers)


class ReplicatedStreamTest(ClusterPerTest):
    """A stream of SHARDS shards created through node 1, a ledger, and the checks."""

    def setUp(self):
        super().setUp()
        self.stream = f"repl-{uuid.uuid4().hex[:6]}"
        client = self.cluster.node(1).kinesis()
        client.create_stream(StreamName=self.stream, ShardCount=SHARDS)
        wait_for(lambda: client.describe_stream_summary(StreamName=self.stream)
                 ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 20)
        self.ledger = Ledger()

    # -- helpers ---------------------------------------------------------------

    def leader(self, ordinal):
        """The node id leading a shard, or None during an election."""
        owner = self.cluster.assignments(self.stream)[ordinal].node
        return None if owner == "-" else owner

    def start_producers(self, count=2):
        return start_producers(self.cluster, self.stream, self.ledger, count)

    def stop_producers(self, producers):
        return stop_producers(self, producers)

    def wait_writable(self, ordinal, deadline_s):
        """Puts to one shard through a live node until one is acknowledged; returns the time
        it took."""
        started = time.monotonic()
        key = self.key_for(ordinal)

        def put():
            for node in self.cluster.nodes.values():
                if node.proc is None or node.paused:
                    continue
                data = f"probe-{uuid.uuid4().hex[:8]}"
                try:
                    out = node.kinesis(attempts=1, connect_timeout=1, read_timeout=8).put_record(
                        StreamName=self.stream, Data=data.encode(), PartitionKey=key)
                    self.ledger.ack(data, out["ShardId"], out["SequenceNumber"])
                    return True
                except botocore.exceptions.ClientError as e:
                    if error_code(e) not in UNAVAILABLE_CODES:
                        raise
                except (botocore.exceptions.EndpointConnectionError,
                        botocore.exceptions.ReadTimeoutError,
                        botocore.exceptions.ConnectionClosedError):
                    pass
            return False
        wait_for(put, deadline_s, interval=0.02, what=f"{shard_id(ordinal)} to take a write")
        return time.monotonic() - started

    def status_of(self, node, ordinal):
        """Shard `ordinal` of the test's stream in `riffle cluster status --json` via `node`."""
        status = cluster_status(node.grpc_port)
        return next(s for s in status["shards"]
                    if s["stream_name"] == self.stream and s["shard_id"] == shard_id(ordinal))

    def key_for(self, ordinal):
        from harness import hash_key, initial_ranges, shard_for
        ranges = initial_ranges(SHARDS)
        for i in range(10000):
            if shard_for(hash_key(f"k{i}"), ranges) == ordinal:
                return f"k{i}"
        raise AssertionError("no key for the shard")

    def read_shard(self, node, ordinal):
        records, _, _ = read_whole_shard(node.kinesis(attempts=5), self.stream,
                                         shard_id(ordinal))
        return records

    def verify(self, what):
        """Every acknowledged record exactly once, at its sequence number, in order, through
        every live node."""
        for node in self.cluster.nodes.values():
            if node.proc is None or node.paused:
                continue
            seen = {}
            for ordinal in range(SHARDS):
                records = self.read_shard(node, ordinal)
                seqs = [int(r["SequenceNumber"]) for r in records]
                self.assertEqual(seqs, sorted(seqs), f"{what}: {shard_id(ordinal)} out of order")
                for r in records:
                    data = r["Data"].decode()
                    self.assertNotIn(data, seen, f"{what}: {data} read twice")
                    seen[data] = (shard_id(ordinal), r["SequenceNumber"])
            with self.ledger.lock:
                acked = dict(self.ledger.acked)
                sent = set(self.ledger.sent)
            missing = [d for d in acked if d not in seen]
            self.assertEqual(missing[:10], [], f"{what}: {len(missing)} acknowledged records "
                             f"missing through {node.node_id}")
            moved = {d: (acked[d], seen[d]) for d in acked if acked[d] != seen[d]}
            self.assertEqual(dict(list(moved.items())[:5]), {},
                             f"{what}: records read at another sequence number than acked")
            unknown = [d for d in seen if d not in sent and not d.startswith("probe-")]
            self.assertEqual(unknown, [], f"{what}: records nobody sent")



class ReplicationTest(ReplicatedStreamTest, unittest.TestCase):

    def test_kill9_of_the_leader_in_a_loop_loses_nothing_acknowledged(self):
        producers = self.start_producers()
        failovers = []
        try:
            for cycle in range(KILL_CYCLES):
                time.sleep(random.uniform(0.3, 1.0))
                ordinal = cycle % SHARDS
                leader_id = self.leader(ordinal)
                self.assertIsNotNone(leader_id, "a shard without a leader before the kill")
                victim = self.cluster.nodes[leader_id]
                victim.kill9()
                failovers.append(self.wait_writable(ordinal, 20))
                new_leader = wait_for(lambda: self.leader(ordinal), 10)
                self.assertNotEqual(new_leader, leader_id, "the dead node still leads")
                victim.start()
        finally:
            total = self.stop_producers(producers)
        self.assertGreater(total, 20, "the producers got almost nothing acknowledged")
        failovers.sort()
        p50 = statistics.median(failovers)
        p99 = failovers[min(len(failovers) - 1, int(len(failovers) * 0.99))]
        print(f"\nfailover, kill -9 to first acknowledged write: p50 {p50:.2f} s, "
              f"max/p99 {p99:.2f} s over {len(failovers)} kills; {total} records acknowledged",
              file=sys.stderr)
        self.assertLessEqual(p99, 10, "failover took far longer than the lease")
        self.verify("after the kill loop")

    def test_a_paused_leader_does_not_split_the_brain(self):
        producers = self.start_producers()
        try:
            time.sleep(0.5)
            leader_id = self.leader(0)
            victim = self.cluster.nodes[leader_id]
            victim.pause()
            self.wait_writable(0, 20)
            wait_for(lambda: self.leader(0) not in (None, leader_id), 10)
            time.sleep(LEASE_TTL_S)
            victim.resume()
            # The old leader must rejoin as a follower; writes keep flowing meanwhile.
            time.sleep(2)
            self.wait_writable(0, 20)
        finally:
            self.stop_producers(producers)
        self.verify("after the pause")

    def test_with_one_replica_of_three_left_writes_are_refused_and_nothing_is_lost(self):
        key = self.key_for(0)
        leader_id = self.leader(0)
        leader = self.cluster.nodes[leader_id]
        client = leader.kinesis(attempts=1, read_timeout=10)
        for i in range(5):
            out = client.put_record(StreamName=self.stream, Data=f"before-{i}".encode(),
                                    PartitionKey=key)
            self.ledger.ack(f"before-{i}", out["ShardId"], out["SequenceNumber"])
            self.ledger.sent.add(f"before-{i}")
        followers = [n for n in self.cluster.nodes.values() if n.node_id != leader_id]
        shard0 = self.status_of(leader, 0)
        self.assertEqual(sorted(shard0["replicas"]), ["n1", "n2", "n3"])
        wait_for(lambda: sorted(self.status_of(leader, 0)["in_sync"]) == ["n1", "n2", "n3"], 10,
                 what="all three replicas in sync in `riffle cluster status`")
        for node in followers:
            node.kill9()
        wait_for(lambda: self.status_of(leader, 0)["in_sync"] == [leader_id], 10,
                 what="the in-sync set to shrink to the leader")

        def refused():
            try:
                data = f"alone-{uuid.uuid4().hex[:8]}"
                self.ledger.sent.add(data)
                client.put_record(StreamName=self.stream, Data=data.encode(), PartitionKey=key)
                return None
            except botocore.exceptions.ClientError as e:
                self.assertIn(error_code(e), UNAVAILABLE_CODES)
                return e.response["Error"].get("Message", "")
        message = wait_for(lambda: (lambda m: m if m and "replicas in sync" in m else None)(
            refused()), 15, interval=0.2, what="the min-in-sync refusal")
        self.assertIn("1 of 3 replicas in sync; writes need 2", message)
        for node in followers:
            node.start()
        self.wait_writable(0, 20)
        self.verify("after two of three nodes came back")

    def test_a_power_cut_on_one_node_loses_nothing_acknowledged(self):
        """n3's data dir is an ext4 filesystem on a loop device. At the cut n3 is killed and
        the loop device's backing file copied at once: the copy holds exactly what n3's
        filesystem had written out (its page cache is lost, as in a power cut). n3 restarts on
        the copy; then the leader of shard 0 is killed too (if it is not n3), so that what
        survives depends on n3's disk."""
        if os.geteuid() != 0 or not shutil.which("mkfs.ext4") or not os.path.exists(
                "/dev/loop-control"):
            self.skipTest("needs root and loop devices to put a data dir on its own filesystem")
        victim = self.cluster.node(3)
        image = os.path.join(self.cluster.etcd.dir, "n3.img")
        copy = image + ".cut"
        victim.stop()
        shutil.rmtree(victim.data_dir)
        os.makedirs(victim.data_dir)
        subprocess.run(["truncate", "-s", "256M", image], check=True)
        subprocess.run(["mkfs.ext4", "-q", image], check=True)
        subprocess.run(["mount", "-o", "loop", image, victim.data_dir], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", victim.data_dir])
        victim.start()
        producers = self.start_producers()
        try:
            time.sleep(2)
            victim.kill9()
            # The disk as the cut left it.
            subprocess.run(["cp", "--sparse=always", image, copy], check=True)
            subprocess.run(["umount", victim.data_dir], check=True)
            subprocess.run(["mount", "-o", "loop", copy, victim.data_dir], check=True)
            victim.start()
            time.sleep(1.5)
            leader_id = self.leader(0)
            if leader_id != victim.node_id:
                self.cluster.nodes[leader_id].kill9()
            self.wait_writable(0, 20)
        finally:
            self.stop_producers(producers)
        for node in self.cluster.nodes.values():
            if node.proc is None:
                node.start()
        self.verify("after a power cut on n3 and the loss of shard 0's leader")

    def test_the_seed_tutorial_passes_against_every_node(self):
        from test_cluster import SEED_CHECK_CANDIDATES
        script = next((p for p in SEED_CHECK_CANDIDATES if os.path.isfile(p)), None)
        if script is None:
            self.skipTest("the seed tutorial check is absent (looked for "
                          + " and ".join(SEED_CHECK_CANDIDATES) + ")")
        for node in self.cluster.nodes.values():
            p = subprocess.run([sys.executable, script, "--endpoint", node.endpoint, "--fast"],
                               env=node.cli_env(), capture_output=True, text=True, timeout=240)
            out = p.stdout + p.stderr
            self.assertIn("9 passed, 0 failed", out, f"{script} against {node.node_id}:\n{out}")
            self.assertEqual(p.returncode, 0, out)

    def test_a_follower_serves_subscribe_to_shard_from_its_replica(self):
        """SubscribeToShard through a node that follows the shard: records put before and
        while subscribed arrive in order, within a second, and the subscription goes on when
        the leader is killed."""
        leader_id = self.leader(0)
        follower = next(n for n in self.cluster.nodes.values() if n.node_id != leader_id)
        client = follower.kinesis()
        arn = client.describe_stream_summary(StreamName=self.stream)[
            "StreamDescriptionSummary"]["StreamARN"]
        consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName="tail")[
            "Consumer"]["ConsumerARN"]
        wait_for(lambda: client.describe_stream_consumer(ConsumerARN=consumer)[
            "ConsumerDescription"]["ConsumerStatus"] == "ACTIVE", 20)
        key = self.key_for(0)
        put = self.cluster.nodes[leader_id].kinesis()
        put.put_record(StreamName=self.stream, Data=b"before", PartitionKey=key)

        def subscribe():
            try:
                return follower.kinesis(attempts=1).subscribe_to_shard(
                    ConsumerARN=consumer, ShardId=shard_id(0),
                    StartingPosition={"Type": "TRIM_HORIZON"})
            except botocore.exceptions.ClientError as e:
                if error_code(e) in UNAVAILABLE_CODES:
                    return None  # the replica has not heard from its leader yet
                raise
        response = wait_for(subscribe, 10, interval=0.1, what="a subscription")
        events = event_queue(response)
        self.addCleanup(response["EventStream"].close)
        got = []

        def read_until(count, seconds):
            for event in events_until(events, lambda: len(got) >= count, seconds, lambda: got):
                got.extend(r["Data"] for r in event["Records"])
        read_until(1, 5)
        self.assertEqual(got[0], b"before")
        sent = time.monotonic()
        put.put_record(StreamName=self.stream, Data=b"live", PartitionKey=key)
        read_until(2, 1.0)
        self.assertLess(time.monotonic() - sent, 1.0)
        # The leader goes; the follower's subscription carries on with the new leader's writes.
        self.cluster.nodes[leader_id].kill9()
        self.wait_writable(0, 20)
        read_until(3, 10)
        self.assertEqual(got[:2], [b"before", b"live"])
        self.assertTrue(got[2].startswith(b"probe-"), got)

    def test_a_follower_with_a_wiped_disk_is_refilled(self):
        producers = self.start_producers()
        try:
            time.sleep(1)
            leader_id = self.leader(0)
            follower = next(n for n in self.cluster.nodes.values() if n.node_id != leader_id)
            follower.kill9()
            shutil.rmtree(follower.data_dir)
            os.makedirs(follower.data_dir)
            follower.start()
            time.sleep(2)
            # The refilled follower and the third node must carry the shard on their own.
            self.cluster.nodes[leader_id].kill9()
            self.wait_writable(0, 20)
            time.sleep(0.5)
        finally:
            self.stop_producers(producers)
        self.cluster.nodes[leader_id].start()
        self.verify("after refilling a wiped follower and losing the leader")


if __name__ == "__main__":
    unittest.main()
