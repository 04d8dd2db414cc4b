"""Resource policies and account settings in a cluster: a change made through any node goes to
the controller, lands in etcd's catalog, and every node answers with it, also a node that was
down when it was made. Real etcd, three real riffled nodes, boto3."""

import json
import unittest

from harness import Cluster, wait_for

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kinesis:GetRecords", "Resource": "*"}]})


class ClusterSettingsTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(3)
        self.addCleanup(self.cluster.cleanup)
        self.cluster.start()

    def test_policies_and_settings_reach_every_node(self):
        controller = self.cluster.controller_id()
        others = [i for i in (1, 2, 3) if self.cluster.node(i).node_id != controller]
        via = self.cluster.node(others[0]).kinesis()
        via.create_stream(StreamName="governed", ShardCount=2)
        wait_for(lambda: via.describe_stream_summary(StreamName="governed")
                 ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 60,
                 what="the stream to be ACTIVE")
        arn = via.describe_stream_summary(
            StreamName="governed")["StreamDescriptionSummary"]["StreamARN"]
        # The last node is down while the changes are made, and catches up when it returns.
        late = self.cluster.node(others[1])
        late.stop()
        via.put_resource_policy(ResourceARN=arn, Policy=POLICY)
        settings = via.update_account_settings(
            MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        self.assertEqual(settings["MinimumThroughputBillingCommitment"]["Status"], "ENABLED")
        late.start()
        for i in (1, 2, 3):
            node = self.cluster.node(i).kinesis()
            wait_for(lambda: node.get_resource_policy(ResourceARN=arn)["Policy"] == POLICY, 30,
                     what=f"node {i} to have the policy")
            described = node.describe_account_settings()["MinimumThroughputBillingCommitment"]
            self.assertEqual(described["Status"], "ENABLED", f"node {i}")
            self.assertEqual(described["StartedAt"],
                             settings["MinimumThroughputBillingCommitment"]["StartedAt"])
        self.cluster.node(others[1]).kinesis().delete_resource_policy(ResourceARN=arn)
        for i in (1, 2, 3):
            node = self.cluster.node(i).kinesis()
            wait_for(lambda: node.get_resource_policy(ResourceARN=arn)["Policy"] == "{}", 30,
                     what=f"node {i} to have lost the policy")


if __name__ == "__main__":
    unittest.main()
