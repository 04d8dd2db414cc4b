"""A stream created on the first node of a cluster gains copies as the others join.

Only n1 runs when the stream is created, so its shards get one copy each. Then n2 and n3
join while producers write: the controller adds each as a learner, the leader fills it, and
it becomes a voter once it holds every acknowledged record, until every shard has three.
Killing n1 (every shard's leader) right then fails the shards over, and every acknowledged
record is read back exactly once at its sequence number through the two nodes left.
"""

import re
import subprocess
import time
import unittest
import uuid

from harness import ClusterPerTest, kinesis_harness, wait_for
from test_replication import SHARDS, ReplicatedStreamTest, start_producers
from test_status import riffle_cli

LEASE_TTL_S = 2


def copies(cluster, stream):
    """{ordinal: (voters, learners)} from a stream's assignment keys."""
    prefix = cluster.key("shards/%020d/" % cluster.stream_id(stream))
    out = {}
    for kv in cluster.etcd.range(prefix, prefix=True):
        text = kv.value.decode()
        node = re.search(r"(?:^|\s)node=(\S+)", text).group(1)
        voters = re.search(r"(?:^|\s)replicas=(\S+)", text)
        learners = re.search(r"(?:^|\s)learners=(\S+)", text)
        out[int(kv.key[len(prefix):])] = (
            voters.group(1).split(",") if voters else [node],
            learners.group(1).split(",") if learners else [])
    return out


class ReplicaGrowthTest(ReplicatedStreamTest, unittest.TestCase):
    node_args = ("--replication-factor", "3")

    def start_cluster(self):
        self.cluster.node(1).start()
        wait_for(lambda: self.cluster.controller() is not None, 20, interval=0.05,
                 what="n1 to become the controller")

    def copies(self):
        return copies(self.cluster, self.stream)

    def test_shards_of_one_copy_grow_to_three_as_nodes_join_and_survive_a_kill(self):
        self.assertEqual({o: c for o, c in self.copies().items()},
                         {o: (["n1"], []) for o in range(SHARDS)},
                         "with one node alive, each shard has one copy")
        producers = (self.start_producers() +
                     start_producers(self.cluster, self.stream, self.ledger, count=1, batch=20))
        try:
            wait_for(lambda: sum(p.count for p in producers) >= 200, 30, interval=0.05,
                     what="200 records on one copy")
            self.cluster.node(2).start()
            self.cluster.node(3).start()
            wait_for(lambda: all(sorted(v) == ["n1", "n2", "n3"] and not ls
                                 for v, ls in self.copies().values()),
                     60, interval=0.05, what="three voting copies of every shard")
            controller_log = self.cluster.node(1).log_text()
            for node in ("n2", "n3"):
                for ordinal in range(SHARDS):
                    shard = f"shardId-{ordinal:012d}"
                    self.assertRegex(controller_log, rf"node {node} receives a copy of stream "
                                     rf"\d+ {shard} as a learner",
                                     "each new copy is a learner before it votes")
                    self.assertRegex(controller_log, rf"node {node} caught up with stream "
                                     rf"\d+ {shard}")
            # At once: a copy made a voter before it held every acknowledged record would
            # now lose some.
            self.cluster.node(1).kill9()
            started = time.monotonic()
            for ordinal in range(SHARDS):
                self.wait_writable(ordinal, 30)
            failover = time.monotonic() - started
        finally:
            self.stop_producers(producers)
        self.assertLess(failover, 15, "shards fail over to the copies made while growing")
        self.verify("after n1, the only first copy, was killed")


class StreamReplicationFactorTest(ClusterPerTest, unittest.TestCase):
    """The native CreateStream's replication factor, through the riffle CLI, in a cluster of
    three whose default is three."""

    node_args = ("--replication-factor", "3")

    def create(self, replication_factor):
        name = f"rf{replication_factor}-{uuid.uuid4().hex[:6]}"
        riffle_cli("stream", "create", name, "--shards", "2", "--replication-factor",
                   str(replication_factor), "--endpoint", self.cluster.node(2).advertise_addr)
        return name

    def test_a_stream_keeps_the_copies_it_asked_for(self):
        one, two = self.create(1), self.create(2)
        # Several rounds of the controller's planner, which would add copies up to three.
        time.sleep(2)
        for stream, wanted in ((one, 1), (two, 2)):
            for ordinal, (voters, learners) in copies(self.cluster, stream).items():
                self.assertEqual((len(voters), learners), (wanted, []),
                                 f"{stream} shard {ordinal}: {voters} {learners}")
            client = self.cluster.node(3).kinesis()
            out = client.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
            self.assertTrue(out["SequenceNumber"])

    def test_an_out_of_range_replication_factor_is_refused(self):
        cli = kinesis_harness.executable_from_env("RIFFLE_CLI", "/path/to/riffle")
        done = subprocess.run([cli, "stream", "create", "too-many", "--shards", "1",
                               "--replication-factor", "6", "--endpoint",
                               self.cluster.node(1).advertise_addr],
                              capture_output=True, text=True, timeout=30)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("replicationFactor", done.stdout + done.stderr)


if __name__ == "__main__":
    unittest.main()
