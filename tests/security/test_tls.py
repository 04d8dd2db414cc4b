"""TLS on the Kinesis, gRPC and metrics ports with certificates from `riffle certs create`:
boto3, the aws CLI, the riffle CLI and an HTTPS scrape, ALPN, mutual TLS on gRPC, a plain client
refused, and a renewed certificate taken on SIGHUP. Real riffled and real clients."""

import json
import os
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

from harness import AWS_CLI, MetricsRiffled, wait_for


def riffle_cli(*args, check=False):
    return subprocess.run([os.environ["RIFFLE_CLI"], *args], capture_output=True, text=True,
                          timeout=60, check=check)


def create_certs(directory):
    result = riffle_cli("certs", "create", "--out", directory)
    assert result.returncode == 0, result.stderr
    return result.stdout


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="riffle-tls-")
        cls.certs = os.path.join(cls.work, "certs")
        cls.certs_output = create_certs(cls.certs)
        # riffled serves copies, which the SIGHUP test replaces and puts back.
        cls.served = os.path.join(cls.work, "served")
        cls.serve(cls.certs)
        # The call rates are off: these tests are about TLS, and list streams often.
        cls.riffled = MetricsRiffled([
            "--tls-cert", os.path.join(cls.served, "server.pem"),
            "--tls-key", os.path.join(cls.served, "server-key.pem"),
            "--tls-client-ca", os.path.join(cls.certs, "ca.pem"), "--shard-quotas=off"])
        cls.riffled.start()
        cls.https = f"https://127.0.0.1:{cls.riffled.port}"

    @classmethod
    def serve(cls, certs):
        os.makedirs(cls.served, exist_ok=True)
        for name in ("server.pem", "server-key.pem"):
            shutil.copy(os.path.join(certs, name), os.path.join(cls.served, name + ".new"))
            os.replace(os.path.join(cls.served, name + ".new"), os.path.join(cls.served, name))

    @classmethod
    def tearDownClass(cls):
        rc = cls.riffled.stop()
        cls.riffled.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"riffled exited {rc}"

    def kinesis(self, ca):
        return boto3.session.Session().client(
            "kinesis", endpoint_url=self.https, region_name="us-east-1", verify=ca,
            aws_access_key_id="AKIDTLS", aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30))

    def test_certs_create_writes_the_files_and_says_how_to_use_them(self):
        for name in ("ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"):
            self.assertTrue(os.path.exists(os.path.join(self.certs, name)), name)
        mode = stat.S_IMODE(os.stat(os.path.join(self.certs, "server-key.pem")).st_mode)
        self.assertEqual(mode, 0o600)
        self.assertIn(f"AWS_CA_BUNDLE={self.certs}/ca.pem", self.certs_output)
        again = riffle_cli("certs", "create", "--out", self.certs)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("exists", again.stderr)
        # The server certificate names 127.0.0.1 and localhost, signed by the CA.
        text = subprocess.run(["openssl", "x509", "-in", os.path.join(self.certs, "server.pem"),
                               "-noout", "-text"], capture_output=True, text=True).stdout
        self.assertIn("IP Address:127.0.0.1", text)
        self.assertIn("DNS:localhost", text)

    def test_boto3_over_tls_with_the_ca(self):
        client = self.kinesis(os.path.join(self.certs, "ca.pem"))
        client.create_stream(StreamName="tls-boto3", ShardCount=1)
        client.get_waiter("stream_exists").wait(StreamName="tls-boto3",
                                                WaiterConfig={"Delay": 0.2})
        client.put_record(StreamName="tls-boto3", Data=b"over tls", PartitionKey="k")
        it = client.get_shard_iterator(StreamName="tls-boto3", ShardId="shardId-000000000000",
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual(client.get_records(ShardIterator=it)["Records"][0]["Data"], b"over tls")

    def test_a_client_that_does_not_trust_the_ca_is_refused(self):
        from botocore.exceptions import SSLError
        with self.assertRaises(SSLError):
            self.kinesis(True).list_streams()  # the system's CAs only

    def test_plain_http_gets_no_answer(self):
        with socket.create_connection(("127.0.0.1", self.riffled.port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            s.settimeout(10)
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)

    def test_alpn_offers_http2_and_http11(self):
        for offered, expected in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")):
            context = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
            context.set_alpn_protocols(offered)
            with socket.create_connection(("127.0.0.1", self.riffled.port), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.selected_alpn_protocol(), expected)
                    self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))

    def test_the_aws_cli_with_aws_ca_bundle(self):
        env = dict(os.environ, AWS_CA_BUNDLE=os.path.join(self.certs, "ca.pem"),
                   AWS_ACCESS_KEY_ID="AKIDTLS", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        result = subprocess.run([AWS_CLI, "--endpoint-url", self.https, "kinesis",
                                 "list-streams"], env=env, capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("StreamNames", json.loads(result.stdout))

    def grpc_endpoint(self):
        return f"127.0.0.1:{self.riffled.ports['grpc']}"

    def test_grpc_needs_tls_and_a_client_certificate(self):
        ca = os.path.join(self.certs, "ca.pem")
        mutual = riffle_cli("stream", "list", "--endpoint", self.grpc_endpoint(), "--tls-ca", ca,
                            "--tls-cert", os.path.join(self.certs, "client.pem"),
                            "--tls-key", os.path.join(self.certs, "client-key.pem"))
        self.assertEqual(mutual.returncode, 0, mutual.stderr)
        no_client_cert = riffle_cli("stream", "list", "--endpoint", self.grpc_endpoint(),
                                    "--tls-ca", ca)
        self.assertNotEqual(no_client_cert.returncode, 0)
        plain = riffle_cli("stream", "list", "--endpoint", self.grpc_endpoint())
        self.assertNotEqual(plain.returncode, 0)

    def scrape(self, ca, path="/metrics"):
        context = ssl.create_default_context(cafile=ca)
        url = f"https://127.0.0.1:{self.riffled.metrics_port}{path}"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            return response.status, response.read().decode()

    def test_the_metrics_port_speaks_https(self):
        ca = os.path.join(self.certs, "ca.pem")
        status, text = self.scrape(ca)
        self.assertEqual(status, 200)
        self.assertIn("# TYPE riffle_", text)
        self.assertEqual(self.scrape(ca, "/healthz"), (200, "ok\n"))
        self.assertEqual(self.scrape(ca, "/readyz"), (200, "ready\n"))
        with self.assertRaises(urllib.error.HTTPError) as missing:
            self.scrape(ca, "/elsewhere")
        self.assertEqual(missing.exception.code, 404)
        # Plain HTTP gets no metrics, and a client that does not trust the CA gets no answer.
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.riffled.metrics_port}/metrics",
                                        timeout=10) as response:
                response.read()
        with self.assertRaises(urllib.error.URLError) as untrusted:
            urllib.request.urlopen(f"https://127.0.0.1:{self.riffled.metrics_port}/metrics",
                                   timeout=10)
        self.assertIsInstance(untrusted.exception.reason, ssl.SSLCertVerificationError)

    def reload(self):
        reloads = self.riffled.log_text().count("reloaded the TLS certificate")
        self.riffled.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.riffled.log_text().count("reloaded the TLS certificate") > reloads,
                 10, what="the reload to be logged")

    def test_sighup_takes_a_renewed_certificate(self):
        from botocore.exceptions import SSLError
        renewed = os.path.join(self.work, "renewed")
        create_certs(renewed)
        try:
            self.serve(renewed)
            self.reload()
            self.assertIn("StreamNames",
                          self.kinesis(os.path.join(renewed, "ca.pem")).list_streams())
            with self.assertRaises(SSLError):
                self.kinesis(os.path.join(self.certs, "ca.pem")).list_streams()
            self.assertEqual(self.scrape(os.path.join(renewed, "ca.pem"), "/healthz")[0], 200)
            with self.assertRaises(urllib.error.URLError):
                self.scrape(os.path.join(self.certs, "ca.pem"), "/healthz")
        finally:
            self.serve(self.certs)
            self.reload()
        self.assertIn("StreamNames", self.kinesis(os.path.join(self.certs, "ca.pem")).list_streams())


if __name__ == "__main__":
    unittest.main()
