"""Consumer groups are single-node in this version: in a cluster, `riffle
trigger` and `riffle group describe` fail at once with a message that says so."""
import subprocess
import unittest

from harness import Cluster
from harness import kinesis_harness

MESSAGE = "The consumer group API is not available in cluster mode in this version of Riffle"


class ClusterGroupsTest(unittest.TestCase):

    def setUp(self):
        self.cluster = Cluster(size=1)
        self.addCleanup(self.cluster.cleanup)
        self.cluster.start()
        self.node = self.cluster.node(1)
        self.node.kinesis().create_stream(StreamName="orders", ShardCount=1)

    def riffle(self, *args):
        cli = kinesis_harness.executable_from_env("RIFFLE_CLI", "/path/to/riffle")
        return subprocess.run([cli, *args, "--endpoint", f"127.0.0.1:{self.node.grpc_port}"],
                              capture_output=True, text=True, timeout=30)

    def test_trigger_and_group_describe_say_groups_are_single_node(self):
        for args in (("trigger", "--stream", "orders", "--group", "g", "--exec", "true"),
                     ("group", "describe", "--stream", "orders", "--group", "g")):
            done = self.riffle(*args)
            self.assertEqual(done.returncode, 1, done.stderr)
            self.assertIn("riffle: ServiceUnavailable: " + MESSAGE, done.stderr)
        self.assertEqual(self.cluster.stop_all(), {"n1": 0})


if __name__ == "__main__":
    unittest.main()
