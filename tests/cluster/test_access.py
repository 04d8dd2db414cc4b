"""A three-node cluster with a credentials file: every node verifies signatures, a call that a
node forwards to the shard's leader is authorized there as the caller's own, and a key's
limits hold on every node. Real etcd, real riffled nodes, boto3."""

import os
import tempfile
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import Cluster, wait_for

CREDENTIALS = """
[[key]]
id = "AKIACLUSTERADMIN"
secret = "admin-secret"
account = "111122223333"
streams = ["*"]
operations = ["read", "write", "admin"]

[[key]]
id = "AKIACLUSTERREADER"
secret = "reader-secret"
account = "111122223333"
streams = ["*"]
operations = ["read"]

# The key the nodes call each other's internal services with.
[[key]]
id = "AKIACLUSTERNODES"
secret = "nodes-secret"
account = "111122223333"
streams = []
operations = ["cluster"]
"""


def client(node, key, secret):
    return boto3.session.Session().client(
        "kinesis", endpoint_url=node.endpoint, region_name="us-east-1", aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 3, "mode": "standard"}, read_timeout=20))


class ClusterAccessTest(unittest.TestCase):
    def setUp(self):
        work = tempfile.mkdtemp(prefix="riffle-cluster-keys-")
        path = os.path.join(work, "credentials.toml")
        with open(path, "w") as f:
            f.write(CREDENTIALS)
        self.cluster = Cluster(3, node_args=("--credentials-file", path,
                                             "--replication-factor", "3"))
        self.addCleanup(self.cluster.cleanup)
        self.cluster.start()

    def test_every_node_serves_signed_calls_and_forwards_them_as_the_caller(self):
        admins = [client(self.cluster.node(i), "AKIACLUSTERADMIN", "admin-secret")
                  for i in (1, 2, 3)]
        readers = [client(self.cluster.node(i), "AKIACLUSTERREADER", "reader-secret")
                   for i in (1, 2, 3)]
        admins[1].create_stream(StreamName="keyed", ShardCount=3)
        wait_for(lambda: admins[2].describe_stream_summary(StreamName="keyed")
                 ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 60,
                 what="the stream to be ACTIVE")
        # Partition keys spread over three shards, so each node both serves and forwards.
        for i, admin in enumerate(admins):
            for k in range(6):
                admin.put_record(StreamName="keyed", Data=f"{i}-{k}".encode(),
                                 PartitionKey=f"key-{k}")
        for reader in readers:
            with self.assertRaises(ClientError) as denied:
                reader.put_record(StreamName="keyed", Data=b"no", PartitionKey="key-1")
            self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")
        stranger = client(self.cluster.node(3), "AKIACLUSTERADMIN", "wrong")
        with self.assertRaises(ClientError) as refused:
            stranger.list_streams()
        self.assertEqual(refused.exception.response["Error"]["Code"], "InvalidSignatureException")
        seen = []
        for shard in readers[0].list_shards(StreamName="keyed")["Shards"]:
            it = readers[2].get_shard_iterator(StreamName="keyed", ShardId=shard["ShardId"],
                                               ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            seen += [r["Data"] for r in readers[2].get_records(ShardIterator=it)["Records"]]
        self.assertEqual(sorted(seen), sorted(f"{i}-{k}".encode()
                                              for i in range(3) for k in range(6)))


if __name__ == "__main__":
    unittest.main()
