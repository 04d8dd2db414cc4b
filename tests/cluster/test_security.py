"""A three-node cluster with security on: a credentials file with a `cluster` key, TLS on every
port and client certificates required on gRPC (--tls-client-ca). The nodes still replicate and
forward to each other (over TLS, presenting their own certificate; replication with the cluster
key), the tutorial's put/get walk works through a node that does not own the shard, and the
internal Replication service refuses every caller but the nodes: no key -> UNAUTHENTICATED,
an ordinary key (even an admin one) -> PERMISSION_DENIED; and with a file that has no cluster
key the nodes derive one from it and the same holds. Real etcd, real riffled nodes, the aws CLI, boto3, and replication_probe
(a gRPC client of the internal service)."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import Cluster, cli_major_version, kinesis_harness, wait_for

AWS_CLI = kinesis_harness.AWS_CLI

ADMIN = ("AKIASECUREADMIN", "admin-secret")
READER = ("AKIASECUREREADER", "reader-secret")
NODES = ("AKIASECURENODES", "nodes-secret")

CREDENTIALS = f"""
[[key]]
id = "{ADMIN[0]}"
secret = "{ADMIN[1]}"
account = "111122223333"
streams = ["*"]
operations = ["read", "write", "admin"]

[[key]]
id = "{READER[0]}"
secret = "{READER[1]}"
account = "111122223333"
streams = ["*"]
operations = ["read"]

[[key]]
id = "{NODES[0]}"
secret = "{NODES[1]}"
account = "111122223333"
streams = []
operations = ["cluster"]
"""


def run_probe(test, node, bearer=None, tls=()):
    """replication_probe's answer ("OK ..." or "<CODE> <message>") from `node`, with the key
    `bearer` (id, secret) if given and the TLS flags `tls`."""
    command = [os.environ["RIFFLE_REPLICATION_PROBE"], f"127.0.0.1:{node.grpc_port}", *tls]
    if bearer is not None:
        command += ["--bearer", f"{bearer[0]}:{bearer[1]}"]
    p = subprocess.run(command, capture_output=True, text=True, timeout=60)
    test.assertEqual(p.returncode, 0, p.stderr)
    return p.stdout.strip()


class SecureClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="riffle-cluster-secure-")
        cls.certs = os.path.join(cls.work, "certs")
        made = subprocess.run([os.environ["RIFFLE_CLI"], "certs", "create", "--out", cls.certs],
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        cls.ca = os.path.join(cls.certs, "ca.pem")
        credentials = os.path.join(cls.work, "credentials.toml")
        with open(credentials, "w") as f:
            f.write(CREDENTIALS)
        cls.cluster = Cluster(3, node_args=(
            "--credentials-file", credentials, "--replication-factor", "3",
            "--tls-cert", os.path.join(cls.certs, "server.pem"),
            "--tls-key", os.path.join(cls.certs, "server-key.pem"),
            "--tls-client-ca", cls.ca))
        try:
            cls.cluster.start()
        except BaseException:
            cls.cluster.cleanup()
            shutil.rmtree(cls.work, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop_all()
        cls.cluster.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)
        assert all(rc == 0 for rc in codes.values()), f"exit codes {codes}"

    def endpoint(self, node):
        return f"https://127.0.0.1:{node.kinesis_port}"

    def kinesis(self, node, key=ADMIN):
        return boto3.session.Session().client(
            "kinesis", endpoint_url=self.endpoint(node), region_name="us-east-1",
            verify=self.ca, aws_access_key_id=key[0], aws_secret_access_key=key[1],
            config=Config(retries={"total_max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30))

    def aws_json(self, node, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ADMIN[0], AWS_SECRET_ACCESS_KEY=ADMIN[1],
                   AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=self.ca, AWS_PAGER="",
                   AWS_CONFIG_FILE=os.path.join(self.work, "aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.work, "aws-credentials"),
                   AWS_EC2_METADATA_DISABLED="true")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        p = subprocess.run([AWS_CLI, "--endpoint-url", self.endpoint(node), *args], env=env,
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(p.returncode, 0, f"aws {' '.join(args)}: {p.stderr}\n"
                         + self.cluster.logs())
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def wait_active(self, name):
        for node in self.cluster.nodes.values():
            client = self.kinesis(node)

            def active(client=client):
                try:
                    summary = client.describe_stream_summary(StreamName=name)
                except ClientError as e:
                    if e.response["Error"]["Code"] == "ResourceNotFoundException":
                        return False
                    raise
                return summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
            wait_for(active, 30, interval=0.1, what=f"{name} ACTIVE on {node.node_id}")

    def probe(self, node, bearer=None, client_cert=True):
        tls = ["--tls-ca", self.ca]
        if client_cert:
            tls += ["--tls-cert", os.path.join(self.certs, "client.pem"),
                    "--tls-key", os.path.join(self.certs, "client-key.pem")]
        return run_probe(self, node, bearer, tls)

    def test_1_seed_walk_through_a_node_that_forwards_and_replicates(self):
        """describe-stream-summary, put-record, get-shard-iterator, get-records through n1 on a
        1-shard stream whose shard another node leads. The put is acknowledged only once a
        majority of the three replicas has it, so it proves replication runs."""
        n1 = self.cluster.node(1)
        name = owner = None
        for attempt in range(10):
            name = f"secure-seed-{attempt}"
            self.kinesis(n1).create_stream(StreamName=name, ShardCount=1)
            self.wait_active(name)
            owner = wait_for(lambda: self.cluster.owners(name).get(0), 10, interval=0.05,
                             what=f"the shard key of {name}")
            if owner != "n1":
                break
        self.assertNotEqual(owner, "n1", "10 streams all placed on n1")
        summary = self.aws_json(n1, "kinesis", "describe-stream-summary", "--stream-name", name)
        self.assertEqual(summary["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")
        put = self.aws_json(n1, "kinesis", "put-record", "--stream-name", name,
                            "--partition-key", "user-1", "--data", "SGVsbG8gS2luZXNpcw==")
        self.assertEqual(put["ShardId"], "shardId-000000000000")
        iterator = self.aws_json(n1, "kinesis", "get-shard-iterator", "--stream-name", name,
                                 "--shard-id", "shardId-000000000000",
                                 "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        got = self.aws_json(n1, "kinesis", "get-records", "--shard-iterator", iterator)
        data = b"Hello Kinesis" if cli_major_version() >= 2 else b"SGVsbG8gS2luZXNpcw=="
        self.assertEqual([(r["PartitionKey"], r["SequenceNumber"]) for r in got["Records"]],
                         [("user-1", put["SequenceNumber"])], got)
        for node in self.cluster.nodes.values():
            client = self.kinesis(node, READER)
            it = client.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records = client.get_records(ShardIterator=it)["Records"]
            self.assertEqual([r["Data"] for r in records], [data], f"via {node.node_id}")

    def test_2_the_replication_service_refuses_whoever_is_not_a_node(self):
        for node in self.cluster.nodes.values():
            anonymous = self.probe(node)
            self.assertTrue(anonymous.startswith("UNAUTHENTICATED "), anonymous)
            # The certificate is verified, but its CN (riffle-client) names no key.
            self.assertIn("stands for no key", anonymous)
            for key in (READER, ADMIN):
                denied = self.probe(node, bearer=key)
                self.assertTrue(denied.startswith("PERMISSION_DENIED "), denied)
                self.assertIn(f"Key {key[0]} may not call the cluster's internal services",
                              denied)
            wrong = self.probe(node, bearer=(NODES[0], "not-the-secret"))
            self.assertTrue(wrong.startswith("UNAUTHENTICATED "), wrong)
            # The nodes' own key is let through (an Append of nothing changes nothing).
            self.assertEqual(self.probe(node, bearer=NODES), "OK")
            # Without a client certificate the TLS handshake itself fails.
            self.assertTrue(self.probe(node, bearer=NODES, client_cert=False)
                            .startswith("UNAVAILABLE"))


class DerivedClusterKeyTest(unittest.TestCase):
    """A credentials file without a `cluster` key: the nodes derive one from the file's
    secrets, so they still replicate, and the internal service still refuses every key of the
    file and callers without one."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="riffle-cluster-derived-")
        self.addCleanup(shutil.rmtree, self.work, True)
        credentials = os.path.join(self.work, "credentials.toml")
        with open(credentials, "w") as f:
            f.write(CREDENTIALS[:CREDENTIALS.index(f'[[key]]\nid = "{NODES[0]}"')])
        self.cluster = Cluster(3, node_args=("--credentials-file", credentials,
                                             "--replication-factor", "3"))
        self.addCleanup(self.cluster.cleanup)
        self.cluster.start()

    def probe(self, node, bearer=None):
        return run_probe(self, node, bearer)

    def test_nodes_replicate_with_the_derived_key_and_nobody_else_gets_in(self):
        def client(node):
            return boto3.session.Session().client(
                "kinesis", endpoint_url=f"http://127.0.0.1:{node.kinesis_port}",
                region_name="us-east-1", aws_access_key_id=ADMIN[0],
                aws_secret_access_key=ADMIN[1],
                config=Config(retries={"total_max_attempts": 5, "mode": "standard"}))
        first = self.cluster.node(1)
        client(first).create_stream(StreamName="derived", ShardCount=1)
        wait_for(lambda: len(self.cluster.owners("derived")) == 1, 20, interval=0.1,
                 what="an owner for the shard")
        put = client(first).put_record(StreamName="derived", Data=b"kept", PartitionKey="k")
        for node in self.cluster.nodes.values():
            c = client(node)
            it = c.get_shard_iterator(StreamName="derived", ShardId="shardId-000000000000",
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records = c.get_records(ShardIterator=it)["Records"]
            self.assertEqual([(r["Data"], r["SequenceNumber"]) for r in records],
                             [(b"kept", put["SequenceNumber"])], node.node_id)
        for node in self.cluster.nodes.values():
            self.assertTrue(self.probe(node).startswith("UNAUTHENTICATED "))
            for key in (READER, ADMIN):
                self.assertTrue(self.probe(node, bearer=key).startswith("PERMISSION_DENIED "))
            guessed = self.probe(node, bearer=("riffle-derived-cluster-key", "guess"))
            self.assertTrue(guessed.startswith("UNAUTHENTICATED "), guessed)
        self.assertEqual(set(self.cluster.stop_all().values()), {0})


if __name__ == "__main__":
    unittest.main()
