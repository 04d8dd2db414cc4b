"""Resharding in a cluster: SplitShard, MergeShards and UpdateShardCount while producers
write through every node.

The controller seals each parent at its leader (docs/cluster.md §7) before the catalog closes
it, so every acknowledged record is read back exactly once at its sequence number, parents
end at or after their last record, and writes go on in the children. Run with shards of one
copy (moved whole between nodes) and of three (replicated).

A reshard whose parent's leader cannot seal it (paused past the seal's deadline) fails with
ServiceUnavailable, and the parent is reopened and takes writes again.
"""

import time
import unittest
import uuid

import botocore.exceptions

from harness import UNAVAILABLE_CODES, ClusterPerTest, read_whole_shard, wait_for
from test_replication import Ledger, start_producers, stop_producers

LEASE_TTL_S = 2
SEAL_TIMEOUT_S = 10  # ShardCloser::kSealTimeout


def error_code(e):
    return e.response.get("Error", {}).get("Code")


class ReshardTestBase(ClusterPerTest):
    def setUp(self):
        super().setUp()
        self.stream = f"reshard-{uuid.uuid4().hex[:6]}"
        self.client = self.cluster.node(1).kinesis()
        self.client.create_stream(StreamName=self.stream, ShardCount=2)
        wait_for(lambda: self.summary()["StreamStatus"] == "ACTIVE", 20)
        self.ledger = Ledger()

    # -- helpers ---------------------------------------------------------------

    def summary(self, via=None):
        client = via.kinesis() if via else self.client
        return client.describe_stream_summary(StreamName=self.stream)[
            "StreamDescriptionSummary"]

    def shards(self, via=None):
        client = via.kinesis() if via else self.client
        return client.list_shards(StreamName=self.stream)["Shards"]

    def open_shards(self, via=None):
        return [s for s in self.shards(via)
                if "EndingSequenceNumber" not in s["SequenceNumberRange"]]

    def non_controller(self):
        controller = self.cluster.controller_id()
        return next(n for n in self.cluster.nodes.values() if n.node_id != controller)

    def reshard(self, what, call):
        """Runs a reshard through a node other than the controller, retrying while a
        previous one settles (ResourceInUse) or a shard is briefly unavailable."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return call(self.non_controller().kinesis(attempts=1, read_timeout=30))
            except botocore.exceptions.ClientError as e:
                if (error_code(e) not in UNAVAILABLE_CODES + ("ResourceInUseException",)
                        or time.monotonic() > deadline):
                    raise AssertionError(f"{what} failed: {e}\n{self.cluster.logs()}") from e
                time.sleep(0.2)

    def wait_open_shards(self, count):
        """Until every node lists `count` open shards; returns them."""
        for node in self.cluster.nodes.values():
            wait_for(lambda node=node: len(self.open_shards(node)) == count, 20, interval=0.05,
                     what=f"{count} open shards on {node.node_id}")
        return self.open_shards()

    def written_since(self, count_before, at_least):
        """Waits until the producers have `at_least` more acknowledgements than before."""
        wait_for(lambda: len(self.ledger.acked) >= count_before + at_least, 30, interval=0.05,
                 what=f"{at_least} more acknowledged records")

    def verify(self):
        """Through every node: every acknowledged record once, at its sequence number, in its
        shard; closed shards end after their last record, at their children."""
        with self.ledger.lock:
            acked = dict(self.ledger.acked)
            sent = set(self.ledger.sent)
        for node in self.cluster.nodes.values():
            client = node.kinesis(attempts=5)
            shards = self.shards(node)
            seen = {}
            for shard in shards:
                records, ended, children = read_whole_shard(client, self.stream, shard["ShardId"])
                seqs = [int(r["SequenceNumber"]) for r in records]
                self.assertEqual(seqs, sorted(seqs), f"{shard['ShardId']} out of order")
                closing = shard["SequenceNumberRange"].get("EndingSequenceNumber")
                self.assertEqual(ended, closing is not None,
                                 f"{shard['ShardId']} through {node.node_id}: read to an end "
                                 f"iff closed (ending {closing})")
                if closing is not None:
                    self.assertTrue(all(s <= int(closing) for s in seqs),
                                    f"{shard['ShardId']} has records past its ending "
                                    f"sequence number {closing}")
                    expected = sorted(s["ShardId"] for s in shards
                                      if shard["ShardId"] in (s.get("ParentShardId"),
                                                              s.get("AdjacentParentShardId")))
                    self.assertEqual(sorted(children), expected,
                                     f"children of {shard['ShardId']} at its end")
                for r in records:
                    data = r["Data"].decode()
                    self.assertNotIn(data, seen, f"{data} read twice through {node.node_id}")
                    seen[data] = (shard["ShardId"], r["SequenceNumber"])
            missing = [d for d in acked if d not in seen]
            self.assertEqual(missing[:10], [], f"{len(missing)} of {len(acked)} acknowledged "
                             f"records missing through {node.node_id}")
            moved = {d: (acked[d], seen[d]) for d in acked if acked[d] != seen[d]}
            self.assertEqual(dict(list(moved.items())[:5]), {},
                             "records read at another shard or sequence number than acked")
            unknown = [d for d in seen if d not in sent]
            self.assertEqual(unknown, [], "records nobody sent")

    # -- tests -------------------------------------------------------------------

    def test_split_merge_and_scaling_under_load_lose_nothing(self):
        # Single records, and batches whose records go to several shards at once (so one
        # PutRecords may hold records for a closing parent and for an open shard).
        producers = (start_producers(self.cluster, self.stream, self.ledger) +
                     start_producers(self.cluster, self.stream, self.ledger, count=1, batch=8))
        try:
            self.written_since(0, 50)
            first = self.open_shards()[0]
            low = int(first["HashKeyRange"]["StartingHashKey"])
            high = int(first["HashKeyRange"]["EndingHashKey"])
            self.reshard("SplitShard", lambda c: c.split_shard(
                StreamName=self.stream, ShardToSplit=first["ShardId"],
                NewStartingHashKey=str((low + high) // 2)))
            halves = [s for s in self.wait_open_shards(3)
                      if s.get("ParentShardId") == first["ShardId"]]
            self.assertEqual(len(halves), 2, "SplitShard opens two children of the parent")
            self.written_since(len(self.ledger.acked), 50)

            halves.sort(key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
            self.reshard("MergeShards", lambda c: c.merge_shards(
                StreamName=self.stream, ShardToMerge=halves[0]["ShardId"],
                AdjacentShardToMerge=halves[1]["ShardId"]))
            self.wait_open_shards(2)
            self.written_since(len(self.ledger.acked), 50)

            self.reshard("UpdateShardCount to 4", lambda c: c.update_shard_count(
                StreamName=self.stream, TargetShardCount=4, ScalingType="UNIFORM_SCALING"))
            self.wait_open_shards(4)
            self.written_since(len(self.ledger.acked), 50)
            self.reshard("UpdateShardCount to 3", lambda c: c.update_shard_count(
                StreamName=self.stream, TargetShardCount=3, ScalingType="UNIFORM_SCALING"))
            self.wait_open_shards(3)
            self.written_since(len(self.ledger.acked), 100)
        finally:
            stop_producers(self, producers)
        written = {shard for shard, _ in self.ledger.acked.values()}
        for shard in self.open_shards():
            self.assertIn(shard["ShardId"], written, "the last children take the writes")
        self.verify()

    def remote_shard(self):
        """(ordinal, owner node) of a shard whose leader is not the controller."""
        controller = self.cluster.controller_id()
        owners = self.cluster.owners(self.stream)
        ordinal, owner = next((o, n) for o, n in sorted(owners.items()) if n != controller)
        return ordinal, self.cluster.nodes[owner]

    def split_through_controller(self, ordinal):
        shard = self.open_shards()[ordinal]
        middle = (int(shard["HashKeyRange"]["StartingHashKey"]) +
                  int(shard["HashKeyRange"]["EndingHashKey"])) // 2
        controller = self.cluster.nodes[self.cluster.controller_id()]
        return controller.kinesis(attempts=1, read_timeout=60).split_shard(
            StreamName=self.stream, ShardToSplit=shard["ShardId"],
            NewStartingHashKey=str(middle))

    def put_to(self, ordinal, via):
        """One PutRecord to shard `ordinal` through `via`; its shard id, or None while the
        shard is unavailable."""
        start = self.open_shards()[ordinal]["HashKeyRange"]["StartingHashKey"]
        data = f"direct-{uuid.uuid4().hex[:8]}"
        with self.ledger.lock:
            self.ledger.sent.add(data)
        try:
            out = via.kinesis(attempts=1).put_record(
                StreamName=self.stream, Data=data.encode(), ExplicitHashKey=start,
                PartitionKey="k")
        except botocore.exceptions.ClientError as e:
            if error_code(e) in UNAVAILABLE_CODES:
                return None
            raise
        self.ledger.ack(data, out["ShardId"], out["SequenceNumber"])
        return out["ShardId"]


class UnreplicatedReshardTest(ReshardTestBase, unittest.TestCase):
    node_args = ("--replication-factor", "1")

    def test_a_seal_that_cannot_happen_reopens_the_shard(self):
        ordinal, owner = self.remote_shard()
        parent = f"shardId-{ordinal:012d}"
        epoch_before = self.cluster.assignments(self.stream)[ordinal].epoch
        owner.pause()
        try:
            started = time.monotonic()
            with self.assertRaises(botocore.exceptions.ClientError) as refused:
                self.split_through_controller(ordinal)
            self.assertIn(error_code(refused.exception), UNAVAILABLE_CODES)
            self.assertIn(parent, str(refused.exception))
            self.assertGreaterEqual(time.monotonic() - started, SEAL_TIMEOUT_S - 1)
        finally:
            owner.resume()
        self.assertEqual(len(self.open_shards()), 2, "a failed split changes no shard")
        # The parent is reopened in a new epoch and takes writes again through every node.
        wait_for(lambda: self.cluster.assignments(self.stream)[ordinal].epoch > epoch_before,
                 15, interval=0.05, what=f"{parent} reopened in a new epoch")
        for via in self.cluster.nodes.values():
            wait_for(lambda via=via: self.put_to(ordinal, via) == parent, 20, interval=0.1,
                     what=f"a write to {parent} through {via.node_id}")
        self.verify()


class ReplicatedReshardTest(ReshardTestBase, unittest.TestCase):
    node_args = ("--replication-factor", "3")

    def test_a_split_completes_when_the_parent_fails_over(self):
        ordinal, leader = self.remote_shard()
        parent = f"shardId-{ordinal:012d}"
        for via in self.cluster.nodes.values():
            wait_for(lambda via=via: self.put_to(ordinal, via) == parent, 20, interval=0.1,
                     what=f"a write to {parent} through {via.node_id}")
        leader.pause()
        try:
            # The seal waits for the leader's successor, which seals the parent instead.
            self.split_through_controller(ordinal)
        finally:
            leader.resume()
        children = [s for s in self.wait_open_shards(3) if s.get("ParentShardId") == parent]
        self.assertEqual(len(children), 2)
        for child in children:
            index = next(i for i, s in enumerate(self.open_shards())
                         if s["ShardId"] == child["ShardId"])
            for via in self.cluster.nodes.values():
                wait_for(lambda via=via: self.put_to(index, via) == child["ShardId"], 20,
                         interval=0.1, what=f"a write to {child['ShardId']} via {via.node_id}")
        self.verify()


if __name__ == "__main__":
    unittest.main()
