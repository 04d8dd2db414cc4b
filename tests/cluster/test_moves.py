"""Shards move between nodes with their records: a node that joins receives a share of the
shards, and a node stopped with SIGTERM hands its shards to the others before it leaves.
Every acknowledged record stays readable exactly once, at its sequence number, through any
node, and the moved shards take writes again at their new owners.
"""
import time
import unittest
import uuid

import botocore.exceptions

from harness import Cluster, initial_ranges, shard_id, wait_for
from test_cluster import ClusterTestBase, Ledger, error_code

SHARDS = 12
MOVE_DEADLINE_S = 40


class MoveTest(unittest.TestCase):
    """Its own cluster: n1 and n2 first, n3 joins later."""

    def setUp(self):
        self.cluster = Cluster(size=3, node_args=("--replication-factor", "1"))
        self.addCleanup(self.cluster.cleanup)
        self.n1, self.n2, self.n3 = (self.cluster.node(i) for i in (1, 2, 3))
        self.n1.start()
        wait_for(lambda: self.cluster.controller() is not None, 10, interval=0.05,
                 what="a controller key")
        self.n2.start()
        self.check = ClusterTestBase("run")  # its assertions and verify(), on this cluster
        ClusterTestBase.cluster = self.cluster

    def put_many(self, via, stream, ledger, count, tag):
        """PutRecords of `count` records in batches, retrying entries refused while a shard
        moves (ServiceUnavailable); every acknowledged entry goes into the ledger."""
        client = via.kinesis()
        pending = [f"{tag}-{i}-{uuid.uuid4().hex[:8]}" for i in range(count)]
        deadline = time.time() + MOVE_DEADLINE_S
        while pending and time.time() < deadline:
            batch, pending = pending[:100], pending[100:]
            for data in batch:
                ledger.send(data)
            try:
                out = client.put_records(StreamName=stream, Records=[
                    {"Data": d.encode(), "PartitionKey": d} for d in batch])
            except botocore.exceptions.ClientError as e:
                if error_code(e) not in ("ServiceUnavailable", "InternalFailure"):
                    raise
                pending += batch
                time.sleep(0.2)
                continue
            for data, entry in zip(batch, out["Records"]):
                if "SequenceNumber" in entry:
                    ledger.ack(data, entry["ShardId"], entry["SequenceNumber"], data,
                               ordered=False)
                else:
                    pending.append(data)
        self.assertEqual(pending, [], "records still refused after the moves")

    def test_a_joining_node_receives_a_share_and_a_drained_node_hands_its_shards_over(self):
        stream = f"moves-{uuid.uuid4().hex[:6]}"
        self.n2.kinesis().create_stream(StreamName=stream, ShardCount=SHARDS)
        wait_for(lambda: len(self.cluster.owners(stream)) == SHARDS, 10, interval=0.05,
                 what="every shard owned")
        ledger = Ledger()
        self.put_many(self.n1, stream, ledger, 600, "before")

        self.n3.start()
        wait_for(lambda: list(self.cluster.owners(stream).values()).count("n3") >= SHARDS // 3,
                 MOVE_DEADLINE_S, interval=0.1, what="n3 receiving its share of the shards")
        counts = {n: list(self.cluster.owners(stream).values()).count(n)
                  for n in ("n1", "n2", "n3")}
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1, counts)
        epochs = {a.epoch for a in self.cluster.assignments(stream).values()}
        self.assertGreater(max(epochs), 1, "a moved shard's epoch must have gone up")
        self.put_many(self.n3, stream, ledger, 300, "after-join")
        for via in (self.n1, self.n2, self.n3):
            self.check.verify(via.kinesis(), stream, SHARDS, ledger, where=f"via {via.node_id}")

        self.assertEqual(self.n2.stop(), 0, self.n2.log_tail())
        owners = self.cluster.owners(stream)
        self.assertNotIn("n2", owners.values(), f"n2 left with shards: {owners}")
        self.put_many(self.n1, stream, ledger, 300, "after-drain")
        for via in (self.n1, self.n3):
            self.check.verify(via.kinesis(), stream, SHARDS, ledger, where=f"via {via.node_id}")


if __name__ == "__main__":
    unittest.main()
