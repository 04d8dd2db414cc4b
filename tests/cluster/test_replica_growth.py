"""A stream created on the first node of a cluster gains copies as the others join.

Only n1 runs when the stream is created, so its shards get one copy each. Then n2 and n3
join while producers write: the controller adds each as a learner, the leader fills it, and
it becomes a voter once it holds every acknowledged record, until every shard has three.
Killing n1 (every shard's leader) right then fails the shards over, and every acknowledged
record is read back exactly once at its sequence number through the two nodes left.
"""

import re
import time
import unittest

from harness import wait_for
from test_replication import SHARDS, ReplicatedStreamTest, start_producers

LEASE_TTL_S = 2


class ReplicaGrowthTest(ReplicatedStreamTest, unittest.TestCase):
    node_args = ("--replication-factor", "3")

    def start_cluster(self):
        self.cluster.node(1).start()
        wait_for(lambda: self.cluster.controller() is not None, 20, interval=0.05,
                 what="n1 to become the controller")

    def copies(self):
        """{ordinal: (voters, learners)} from the stream's assignment keys."""
        prefix = self.cluster.key("shards/%020d/" % self.cluster.stream_id(self.stream))
        out = {}
        for kv in self.cluster.etcd.range(prefix, prefix=True):
            text = kv.value.decode()
            node = re.search(r"(?:^|\s)node=(\S+)", text).group(1)
            voters = re.search(r"(?:^|\s)replicas=(\S+)", text)
            learners = re.search(r"(?:^|\s)learners=(\S+)", text)
            out[int(kv.key[len(prefix):])] = (
                voters.group(1).split(",") if voters else [node],
                learners.group(1).split(",") if learners else [])
        return out

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


if __name__ == "__main__":
    unittest.main()
