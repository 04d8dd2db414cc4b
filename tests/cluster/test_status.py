"""`riffle cluster status` and the cluster's metrics: any node reports every live node, exactly
one controller, and every shard's owner as etcd's shard keys name it; a single riffled reports
itself as one node in single-node mode; a node's /metrics carries the riffle_cluster_* gauges.
"""
import json
import re
import subprocess
import unittest
import urllib.request

from harness import Cluster, ClusterNode, RiffledProcess, free_port, shard_id, wait_for
from harness import kinesis_harness

SHARDS = 6
CLI_TIMEOUT_S = 30


def riffle_cli(*args):
    """Runs the riffle CLI; returns its stdout, failing the test on a non-zero exit."""
    cli = kinesis_harness.executable_from_env("RIFFLE_CLI", "/path/to/riffle")
    done = subprocess.run([cli, *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"riffle {' '.join(args)} exited with {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}")
    return done.stdout


def cluster_status(grpc_port, *, flags_after=True):
    """`riffle cluster status --json` against one node, parsed."""
    endpoint = f"127.0.0.1:{grpc_port}"
    if flags_after:  # the global flags after the subcommand
        out = riffle_cli("cluster", "status", "--endpoint", endpoint, "--json")
    else:
        out = riffle_cli("--endpoint", endpoint, "--json", "cluster", "status")
    lines = out.strip().splitlines()
    if len(lines) != 1:
        raise AssertionError(f"expected one JSON object, got:\n{out}")
    return json.loads(lines[0])


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def gauge(text, name, labels=""):
    """The value of one series in an exposition text, or None."""
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.MULTILINE)
    return float(m.group(1)) if m else None


class MetricsNode(ClusterNode):
    """A cluster node that serves /metrics on a port of its own."""

    def __init__(self, cluster, node_id):
        super().__init__(cluster, node_id)
        self.metrics_port = free_port()

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--metrics-port") + 1] = str(self.metrics_port)
        return cmd


class ClusterStatusTest(unittest.TestCase):

    def setUp(self):
        self.cluster = Cluster(size=3, node_args=("--replication-factor", "1"))
        self.addCleanup(self.cluster.cleanup)
        self.cluster.nodes["n3"] = MetricsNode(self.cluster, "n3")
        self.cluster.start()
        self.n1, self.n2, self.n3 = (self.cluster.node(i) for i in (1, 2, 3))

    def test_status_and_metrics_show_nodes_controller_and_owners(self):
        stream = "status-orders"
        self.n1.kinesis().create_stream(StreamName=stream, ShardCount=SHARDS)
        owners = self.cluster.owners(stream)
        self.assertEqual(len(owners), SHARDS, f"etcd has shard keys {owners}")
        controller = self.cluster.controller_id()

        status = cluster_status(self.n2.grpc_port)
        self.assertEqual(status["mode"], "cluster", status)
        self.assertEqual(status["cluster_name"], self.cluster.name)
        self.assertEqual(status["node_id"], "n2")
        nodes = {n["node_id"]: n for n in status["nodes"]}
        self.assertEqual(sorted(nodes), ["n1", "n2", "n3"], status)
        self.assertEqual([n for n, v in nodes.items() if v["is_controller"]], [controller],
                         status)
        for node in (self.n1, self.n2, self.n3):
            self.assertEqual(nodes[node.node_id]["grpc_addr"], node.advertise_addr)
            self.assertFalse(nodes[node.node_id]["draining"])
        shards = [s for s in status["shards"] if s["stream_name"] == stream]
        self.assertEqual(sorted(s["shard_id"] for s in shards),
                         [shard_id(i) for i in range(SHARDS)], status)
        expected = {shard_id(o): node for o, node in owners.items()}
        self.assertEqual({s["shard_id"]: s["owner"] for s in shards}, expected)
        for s in shards:
            self.assertTrue(s["owner_alive"], s)
            self.assertGreaterEqual(s["epoch"], 1, s)
            self.assertEqual(s["moving_to"], "", s)
            # n2 knows the ends of its own shards only.
            self.assertEqual("committed_end" in s, s["owner"] == "n2", s)
        for node_id, node in nodes.items():
            self.assertEqual(node["shards_owned"],
                             sum(1 for owner in owners.values() if owner == node_id), status)

        # The same answer with the global flags before the subcommand, and as a table.
        before = cluster_status(self.n2.grpc_port, flags_after=False)
        self.assertEqual({s["shard_id"]: s["owner"] for s in before["shards"]
                          if s["stream_name"] == stream}, expected)
        table = riffle_cli("--endpoint", f"127.0.0.1:{self.n1.grpc_port}", "cluster", "status")
        self.assertIn("NODE", table)
        for s in shards:
            self.assertRegex(table, rf"{stream}\s+{s['shard_id']}\s+{s['owner']}\s")

        # n3's metrics: three live nodes, its lease, whether it is the controller, and the
        # shard count of every node.
        def metrics_ready():
            text = scrape(self.n3.metrics_port)
            return gauge(text, "riffle_cluster_nodes") == 3 and text
        text = wait_for(metrics_ready, 10, interval=0.1, what="riffle_cluster_nodes 3")
        self.assertEqual(gauge(text, "riffle_cluster_lease_valid"), 1, text)
        self.assertEqual(gauge(text, "riffle_cluster_is_controller"),
                         1 if controller == "n3" else 0, text)
        for node_id in ("n1", "n2", "n3"):
            self.assertEqual(gauge(text, "riffle_cluster_shards_owned", f'{{node="{node_id}"}}'),
                             sum(1 for owner in owners.values() if owner == node_id), text)


class SingleNodeStatusTest(unittest.TestCase):

    def test_single_node_is_one_local_node_owning_every_shard(self):
        node = RiffledProcess(name="single")
        self.addCleanup(node.cleanup)
        node.start()
        node.client().create_stream(StreamName="single", ShardCount=2)
        wait_for(lambda: node.client().describe_stream_summary(StreamName="single")
                 ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 10,
                 what="the stream to be ACTIVE")
        status = cluster_status(node.ports["grpc"])
        self.assertEqual(status["mode"], "single-node", status)
        self.assertEqual([n["node_id"] for n in status["nodes"]], ["local"], status)
        self.assertEqual(status["nodes"][0]["shards_owned"], 2, status)
        shards = [s for s in status["shards"] if s["stream_name"] == "single"]
        self.assertEqual([s["shard_id"] for s in shards], [shard_id(0), shard_id(1)], status)
        for s in shards:
            self.assertEqual((s["owner"], s["epoch"], s["owner_alive"]), ("local", 0, True), s)
            self.assertEqual(s["committed_end"], 0, s)
        # No cluster gauges outside a cluster.
        if node.ports.get("metrics"):
            self.assertNotIn("riffle_cluster_", scrape(node.ports["metrics"]))


if __name__ == "__main__":
    unittest.main()
