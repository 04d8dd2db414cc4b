"""Consumer groups and `riffle trigger` in a cluster: a real etcd and three riffled nodes.

The group's leases and checkpoints are catalog entries the controller writes to etcd, so a
runner connected to any node delivers every record, `riffle group describe` on any other node
sees its checkpoints, and the runner goes on when the controller (which also leads some of
the shards) is killed with -9.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import botocore.exceptions

from harness import UNAVAILABLE_CODES, Cluster, kinesis_harness, wait_for

HANDLER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "triggers",
                       "exec_handler.py")
SHARDS = 4


class ClusterGroupsCase(unittest.TestCase):
    """A 3-node cluster with stream `orders` of SHARDS shards, and helpers to put records, run
    a runner and describe its group."""
    node_args = ()

    def setUp(self):
        self.cli = kinesis_harness.executable_from_env("RIFFLE_CLI", "/path/to/riffle")
        self.work_dir = tempfile.mkdtemp(prefix="riffle-cluster-groups-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.work_dir], check=False)
        self.cluster = Cluster(size=3, node_args=self.node_args)
        self.addCleanup(self.cluster.cleanup)
        self.cluster.start()
        self.runner = None
        self.addCleanup(self.stop_runner)
        self.cluster.node(1).kinesis().create_stream(StreamName="orders", ShardCount=SHARDS)
        wait_for(lambda: len(self.cluster.owners("orders")) == SHARDS, 20, interval=0.1,
                 what="an owner for every shard")
        self.sent = {}  # data -> (shard id, sequence number)

    def stop_runner(self):
        if self.runner is not None and self.runner.poll() is None:
            self.runner.kill()
            self.runner.wait()

    def endpoint(self, i):
        return f"127.0.0.1:{self.cluster.node(i).grpc_port}"

    def put(self, node, count, prefix):
        """Puts `count` records through `node`, each retried until it is acknowledged."""
        client = self.cluster.node(node).kinesis(attempts=1)
        for i in range(count):
            data = f"{prefix}-{i}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    out = client.put_record(StreamName="orders", Data=data.encode(),
                                            PartitionKey=f"key-{i % 7}")
                    break
                except botocore.exceptions.ClientError as e:
                    if e.response["Error"]["Code"] not in UNAVAILABLE_CODES or \
                            time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            self.sent[data] = (out["ShardId"], out["SequenceNumber"])

    def delivered(self, log):
        """Every [shard, data] pair the handler received, in the order it received them."""
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [tuple(pair) for line in f for pair in json.loads(line)]

    def describe(self, node):
        out = subprocess.run([self.cli, "group", "describe", "--stream", "orders", "--group",
                              "billing", "--json", "--endpoint", self.endpoint(node)],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            return None
        return {s["shard_id"]: s for s in map(json.loads, out.stdout.splitlines())}

    def wait_all_delivered(self, log, timeout=60):
        try:
            wait_for(lambda: set(self.sent) <= {d for _, d in self.delivered(log)}, timeout,
                     interval=0.2, what="every acknowledged record at the handler")
        except AssertionError:
            with open(self.runner_err) as f:
                sys.stderr.write("\n--- runner\n" + f.read()[-5000:])
            raise

    def start_runner(self, log, *options):
        """`riffle trigger` on node 2, its handler appending to `log`."""
        self.runner_err = os.path.join(self.work_dir, "runner.err")
        with open(self.runner_err, "w") as err:
            self.runner = subprocess.Popen(
                [self.cli, "trigger", "--stream", "orders", "--group", "billing",
                 "--exec", f"{sys.executable} {HANDLER} {log} record",
                 "--starting-position", "TRIM_HORIZON", "--batch-size", "10", *options,
                 "--endpoint", self.endpoint(2)],
                stdout=subprocess.DEVNULL, stderr=err)


class ClusterGroupsTest(ClusterGroupsCase):

    def test_runner_on_one_node_delivers_and_checkpoints_through_a_controller_kill(self):
        self.put(1, 40, "before")
        log = os.path.join(self.work_dir, "handler.log")
        self.start_runner(log)
        self.wait_all_delivered(log)

        # Another node sees the runner's checkpoints: each shard's is its last record.
        last = {}
        for shard, seq in self.sent.values():
            last[shard] = max(last.get(shard, "0"), seq, key=int)

        def checkpointed():
            shards = self.describe(3)
            return shards is not None and all(
                shards[s]["checkpoint"] == seq and shards[s]["lag_records"] == 0
                for s, seq in last.items())
        wait_for(checkpointed, 30, interval=0.2, what="node 3 to see every checkpoint")
        # The runner takes a shard a second until it holds every shard's lease.
        wait_for(lambda: all(d["lease_owner"] for d in self.describe(3).values()), 30,
                 interval=0.5, what="every shard leased to the runner")

        # The controller dies; checkpoints and leases go through the next one.
        controller = self.cluster.controller_id()
        victim = int(controller[1:])
        if victim == 2:  # the runner's endpoint stays up; kill another node instead
            victim = 1
        self.cluster.node(victim).kill9()
        survivor = 3 if victim != 3 else 1
        self.put(survivor, 30, "after")
        self.wait_all_delivered(log, timeout=90)
        wait_for(lambda: (self.describe(survivor) or {}) and all(
            d["lag_records"] == 0 for d in self.describe(survivor).values()), 60, interval=0.5,
            what="no lag left after the kill")

        # Per shard, the handler saw the records in their sequence order (at least once).
        by_shard = {}
        for shard, data in self.delivered(log):
            seen = by_shard.setdefault(shard, [])
            if data not in seen:
                seen.append(data)
        for shard, datas in by_shard.items():
            seqs = [int(self.sent[d][1]) for d in datas]
            self.assertEqual(seqs, sorted(seqs), f"{shard} out of order: {datas}")

        self.runner.terminate()
        self.assertEqual(self.runner.wait(timeout=60), 0)

    def test_an_unknown_group_is_a_clear_error_on_any_node(self):
        done = subprocess.run([self.cli, "group", "describe", "--stream", "orders", "--group",
                               "nobody", "--endpoint", self.endpoint(2)],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("ResourceNotFoundException: Consumer group nobody of stream orders",
                      done.stderr)


class PushedRunnerWithOneCopyTest(ClusterGroupsCase):
    """One copy per shard: node 2 holds only some of the shards, and forwards SubscribeToShard
    of the others to their owners, so the runner pushes every shard and delivers everything."""
    node_args = ("--replication-factor", "1")

    def test_pushed_runner_pushes_the_shards_its_node_does_not_hold(self):
        owners = set(self.cluster.owners("orders").values())
        self.assertGreater(len(owners), 1, "the shards are spread over the nodes")
        self.put(1, 40, "pushed")
        log = os.path.join(self.work_dir, "handler.log")
        self.start_runner(log, "--consumer", "billing-push")
        self.wait_all_delivered(log, timeout=90)
        with open(self.runner_err) as f:
            self.assertNotIn("polling GetRecords", f.read())
        self.runner.terminate()
        self.assertEqual(self.runner.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main()
