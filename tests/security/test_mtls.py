"""Mutual TLS identities on gRPC: with --tls-client-ca and a credentials file, a client that
presents a verified certificate and no bearer token is the key whose `tls_common_name` is the
certificate's Common Name, with that key's account, streams and operations; an unmapped
certificate is UNAUTHENTICATED, saying why; a bearer token, when sent, decides instead of the
certificate. Real riffled, the riffle CLI, client certificates made with openssl."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import MetricsRiffled
from test_tls import create_certs

ADMIN = ("AKIAMTLSADMIN", "admin-secret")
WRITER = ("AKIAMTLSWRITER", "writer-secret")
READER = ("AKIAMTLSREADER", "reader-secret")

# client.pem of `riffle certs create` is CN=riffle-client.
CREDENTIALS = f"""
[[key]]
id = "{ADMIN[0]}"
secret = "{ADMIN[1]}"
account = "111122223333"
streams = ["*"]
operations = ["read", "write", "admin"]
tls_common_name = "riffle-client"

[[key]]
id = "{WRITER[0]}"
secret = "{WRITER[1]}"
account = "444455556666"
streams = ["orders-*"]
operations = ["read", "write"]
tls_common_name = "orders-writer"

[[key]]
id = "{READER[0]}"
secret = "{READER[1]}"
account = "444455556666"
streams = ["orders-*"]
operations = ["read"]
"""


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def client_certificate(certs, common_name, serial):
    """A client certificate for `common_name` signed by the CA of `riffle certs create`;
    returns (certificate, key) paths."""
    key, request, cert = (os.path.join(certs, f"{common_name}{suffix}")
                          for suffix in ("-key.pem", ".csr", ".pem"))
    extensions = os.path.join(certs, f"{common_name}.ext")
    with open(extensions, "w") as f:
        f.write("basicConstraints = critical,CA:FALSE\nextendedKeyUsage = clientAuth\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-subj", f"/CN={common_name}", "-out", request,
            cwd=certs)
    openssl("x509", "-req", "-in", request, "-CA", "ca.pem", "-CAkey", "ca-key.pem",
            "-set_serial", str(serial), "-days", "30", "-extfile", extensions, "-out", cert,
            cwd=certs)
    return cert, key


class MutualTlsIdentityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="riffle-mtls-")
        cls.certs = os.path.join(cls.work, "certs")
        create_certs(cls.certs)
        cls.admin_cert = (os.path.join(cls.certs, "client.pem"),
                          os.path.join(cls.certs, "client-key.pem"))
        cls.writer_cert = client_certificate(cls.certs, "orders-writer", 100)
        cls.stranger_cert = client_certificate(cls.certs, "stranger", 101)
        credentials = os.path.join(cls.work, "credentials.toml")
        with open(credentials, "w") as f:
            f.write(CREDENTIALS)
        cls.riffled = MetricsRiffled([
            "--tls-cert", os.path.join(cls.certs, "server.pem"),
            "--tls-key", os.path.join(cls.certs, "server-key.pem"),
            "--tls-client-ca", os.path.join(cls.certs, "ca.pem"),
            "--credentials-file", credentials, "--shard-quotas=off"])
        cls.riffled.start()
        for name in ("orders-eu", "payroll"):
            created = cls.riffle(cls.admin_cert, "stream", "create", name, "--shards", "1")
            assert created.returncode == 0, created.stderr

    @classmethod
    def tearDownClass(cls):
        rc = cls.riffled.stop()
        cls.riffled.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"riffled exited {rc}"

    @classmethod
    def riffle(cls, cert, *args, bearer=None, stdin=None):
        command = [os.environ["RIFFLE_CLI"], "--endpoint",
                   f"127.0.0.1:{cls.riffled.ports['grpc']}",
                   "--tls-ca", os.path.join(cls.certs, "ca.pem"),
                   "--tls-cert", cert[0], "--tls-key", cert[1], *args]
        if bearer is not None:
            command += ["--credentials", f"{bearer[0]}:{bearer[1]}"]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)

    def test_a_mapped_certificate_is_its_key_without_a_token(self):
        listed = self.riffle(self.admin_cert, "stream", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("orders-eu", listed.stdout)
        self.assertIn("payroll", listed.stdout)
        # The writer's certificate: its key's streams and operations, nothing more.
        mine = self.riffle(self.writer_cert, "stream", "list")
        self.assertEqual(mine.returncode, 0, mine.stderr)
        self.assertIn("orders-eu", mine.stdout)
        self.assertNotIn("payroll", mine.stdout)
        wrote = self.riffle(self.writer_cert, "produce", "orders-eu", "--key", "k",
                            stdin="by certificate\n")
        self.assertEqual(wrote.returncode, 0, wrote.stderr)
        other_stream = self.riffle(self.writer_cert, "produce", "payroll", "--key", "k",
                                   stdin="not allowed\n")
        self.assertEqual(other_stream.returncode, 1)
        self.assertIn("AccessDeniedException", other_stream.stderr)
        self.assertIn(f"user/{WRITER[0]} is not authorized", other_stream.stderr)
        admin_only = self.riffle(self.writer_cert, "stream", "create", "orders-new", "--shards",
                                 "1")
        self.assertIn("AccessDeniedException", admin_only.stderr)
        # The ARNs it sees carry its key's account.
        described = self.riffle(self.writer_cert, "--json", "stream", "describe", "orders-eu")
        self.assertEqual(described.returncode, 0, described.stderr)
        self.assertIn("444455556666:stream/orders-eu", described.stdout)
        read = self.riffle(self.writer_cert, "tail", "orders-eu")
        self.assertEqual(read.returncode, 0, read.stderr)
        self.assertIn("by certificate", read.stdout)
        self.assertNotIn("not allowed", self.riffle(self.admin_cert, "tail", "payroll").stdout)

    def test_an_unmapped_certificate_without_a_token_is_unauthenticated(self):
        refused = self.riffle(self.stranger_cert, "stream", "list")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("UnrecognizedClientException", refused.stderr)
        self.assertIn("The client certificate (CN=stranger) stands for no key", refused.stderr)

    def test_a_bearer_token_decides_over_the_certificate(self):
        # An unmapped certificate with a good token: the token's key.
        listed = self.riffle(self.stranger_cert, "stream", "list", bearer=ADMIN)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("payroll", listed.stdout)
        # The writer's certificate with the reader's token: the reader may not write.
        denied = self.riffle(self.writer_cert, "produce", "orders-eu", "--key", "k",
                             bearer=READER, stdin="as the reader\n")
        self.assertEqual(denied.returncode, 1)
        self.assertIn(f"user/{READER[0]} is not authorized", denied.stderr)
        # A wrong token is refused although the certificate names a key.
        wrong = self.riffle(self.admin_cert, "stream", "list", bearer=(ADMIN[0], "wrong"))
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("UnrecognizedClientException", wrong.stderr)


if __name__ == "__main__":
    unittest.main()
