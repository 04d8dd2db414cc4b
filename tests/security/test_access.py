"""Who may call riffled: verified SigV4 with a credentials file, AWS's errors for a bad key,
signature or clock, per-key streams and operations, CORS only for listed origins, and the
refusal to listen beyond loopback without credentials. Real riffled, boto3, the aws CLI and
raw HTTP."""

import datetime
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import AWS_CLI, JSON_CT, TARGET_PREFIX, RiffledProcess, riffled_path, wait_for

ADMIN = ("AKIAEXAMPLE0000001", "admin-secret", "111122223333")
READER = ("AKIAEXAMPLE0000002", "reader-secret", "444455556666")
WRITER = ("AKIAEXAMPLE0000003", "writer-secret", "777788889999")

CREDENTIALS = f"""
[[key]]
id = "{ADMIN[0]}"
secret = "{ADMIN[1]}"
account = "{ADMIN[2]}"
streams = ["*"]
operations = ["read", "write", "admin"]

[[key]]
id = "{READER[0]}"
secret = "{READER[1]}"
account = "{READER[2]}"
streams = ["orders-*"]
operations = ["read"]
"""

WRITER_KEY = f"""
[[key]]
id = "{WRITER[0]}"
secret = "{WRITER[1]}"
account = "{WRITER[2]}"
streams = ["orders-*"]
operations = ["write"]
"""


def kinesis(endpoint, key, secret):
    return boto3.session.Session().client(
        "kinesis", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=30))


def error_of(call, **kwargs):
    with unittest.TestCase().assertRaises(ClientError) as caught:
        call(**kwargs)
    err = caught.exception.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def signed_headers(host, operation, body, key, secret, when=None):
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=f"http://{host}/", data=body,
        headers={"Content-Type": JSON_CT, "X-Amz-Target": TARGET_PREFIX + operation})
    signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "kinesis",
                                     "eu-west-1")
    if when is None:
        signer.add_auth(request)
    else:
        # botocore dates the signature from its clock; sign as of `when` instead.
        real = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: when
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = real
    return dict(request.headers.items())


class CredentialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="riffle-auth-")
        cls.credentials_path = os.path.join(cls.work, "credentials.toml")
        with open(cls.credentials_path, "w") as f:
            f.write(CREDENTIALS)
        cls.riffled = RiffledProcess(["--credentials-file", cls.credentials_path,
                                      "--cors-origins", "https://console.example"])
        cls.riffled.start()
        cls.admin = kinesis(cls.riffled.endpoint, ADMIN[0], ADMIN[1])
        cls.reader = kinesis(cls.riffled.endpoint, READER[0], READER[1])
        for name in ("orders-eu", "payroll"):
            cls.admin.create_stream(StreamName=name, ShardCount=1)
            cls.admin.get_waiter("stream_exists").wait(StreamName=name,
                                                      WaiterConfig={"Delay": 0.2})
            cls.admin.put_record(StreamName=name, Data=b"first", PartitionKey="k")

    @classmethod
    def tearDownClass(cls):
        rc = cls.riffled.stop()
        cls.riffled.cleanup()
        assert rc == 0, f"riffled exited {rc}"

    def test_the_admin_key_reads_and_writes_with_its_account_in_arns(self):
        summary = self.admin.describe_stream_summary(StreamName="orders-eu")
        self.assertEqual(summary["StreamDescriptionSummary"]["StreamARN"],
                         "arn:aws:kinesis:eu-west-1:111122223333:stream/orders-eu")
        it = self.admin.get_shard_iterator(StreamName="orders-eu", ShardId="shardId-000000000000",
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual(self.admin.get_records(ShardIterator=it)["Records"][0]["Data"], b"first")

    def test_a_wrong_secret_is_an_invalid_signature(self):
        forger = kinesis(self.riffled.endpoint, ADMIN[0], "not-the-secret")
        code, message, status = error_of(forger.list_streams)
        self.assertEqual((code, status), ("InvalidSignatureException", 400))
        self.assertIn("The request signature we calculated does not match", message)
        code, _, _ = error_of(forger.put_record, StreamName="orders-eu", Data=b"x",
                              PartitionKey="k")
        self.assertEqual(code, "InvalidSignatureException")

    def test_an_unknown_key_is_an_unrecognized_client(self):
        stranger = kinesis(self.riffled.endpoint, "AKIAUNKNOWN000000000", "whatever")
        code, message, status = error_of(stranger.list_streams)
        self.assertEqual((code, status), ("UnrecognizedClientException", 400))
        self.assertEqual(message, "The security token included in the request is invalid.")

    def test_a_signature_older_than_fifteen_minutes_is_expired(self):
        body = json.dumps({}).encode()
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        headers = signed_headers(self.riffled.host, "ListStreams", body, ADMIN[0], ADMIN[1],
                                 when=old)
        result = self.riffled.raw("ListStreams", raw_body=body, sign=False, headers=headers)
        self.assertEqual(result.status, 400, result.body)
        self.assertEqual(result.json()["__type"], "InvalidSignatureException")
        self.assertIn("Signature expired", result.json()["message"])
        fresh = signed_headers(self.riffled.host, "ListStreams", body, ADMIN[0], ADMIN[1])
        self.assertEqual(self.riffled.raw("ListStreams", raw_body=body, sign=False,
                                          headers=fresh).status, 200)

    def test_unsigned_and_forged_requests_are_refused(self):
        unsigned = self.riffled.raw("ListStreams", sign=False)
        self.assertEqual(unsigned.json()["__type"], "MissingAuthenticationTokenException")
        forged = self.riffled.raw("ListStreams", sign=False, headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={ADMIN[0]}/20261204/eu-west-1/"
                             "kinesis/aws4_request, SignedHeaders=host, Signature=abc",
            "X-Amz-Date": datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")})
        self.assertEqual(forged.json()["__type"], "InvalidSignatureException")

    def test_a_key_sees_only_its_streams_and_operations(self):
        names = self.reader.list_streams()["StreamNames"]
        self.assertEqual(names, ["orders-eu"])
        self.assertEqual(self.reader.describe_stream_summary(StreamName="orders-eu")
                         ["StreamDescriptionSummary"]["StreamARN"],
                         "arn:aws:kinesis:eu-west-1:444455556666:stream/orders-eu")
        code, message, status = error_of(self.reader.put_record, StreamName="orders-eu",
                                          Data=b"x", PartitionKey="k")
        self.assertEqual((code, status), ("AccessDeniedException", 400))
        self.assertIn("is not authorized to perform: kinesis:PutRecord", message)
        for call, kwargs in [(self.reader.describe_stream_summary, {"StreamName": "payroll"}),
                             (self.reader.delete_stream, {"StreamName": "orders-eu"}),
                             (self.reader.create_stream, {"StreamName": "orders-new",
                                                          "ShardCount": 1})]:
            self.assertEqual(error_of(call, **kwargs)[0], "AccessDeniedException", call)
        # An iterator for another stream, handed over, reads nothing either.
        it = self.admin.get_shard_iterator(StreamName="payroll", ShardId="shardId-000000000000",
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual(error_of(self.reader.get_records, ShardIterator=it)[0],
                         "AccessDeniedException")
        # Nothing the refused calls tried happened.
        self.assertEqual(sorted(self.admin.list_streams()["StreamNames"]),
                         ["orders-eu", "payroll"])

    def test_the_aws_cli_signs_with_the_key(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=READER[0], AWS_SECRET_ACCESS_KEY=READER[1],
                   AWS_DEFAULT_REGION="eu-west-1", AWS_PAGER="",
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        ok = subprocess.run([AWS_CLI, "--endpoint-url", self.riffled.endpoint, "kinesis",
                             "list-streams"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(json.loads(ok.stdout)["StreamNames"], ["orders-eu"])
        env["AWS_SECRET_ACCESS_KEY"] = "wrong"
        bad = subprocess.run([AWS_CLI, "--endpoint-url", self.riffled.endpoint, "kinesis",
                              "list-streams"], env=env, capture_output=True, text=True,
                             timeout=60)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("InvalidSignatureException", bad.stderr)

    def test_sighup_reloads_the_credentials_file(self):
        writer = kinesis(self.riffled.endpoint, WRITER[0], WRITER[1])
        self.assertEqual(error_of(writer.list_streams)[0], "UnrecognizedClientException")
        with open(self.credentials_path, "w") as f:
            f.write(CREDENTIALS + WRITER_KEY)
        try:
            self.riffled.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reloaded 3 keys" in self.riffled.log_text(), 10,
                     what="the reload to be logged")
            writer.put_record(StreamName="orders-eu", Data=b"from-writer", PartitionKey="k")
            self.assertEqual(error_of(writer.get_shard_iterator, StreamName="orders-eu",
                                      ShardId="shardId-000000000000",
                                      ShardIteratorType="TRIM_HORIZON")[0],
                             "AccessDeniedException")
            # A broken file keeps the keys in force.
            with open(self.credentials_path, "w") as f:
                f.write("[[key]\n")
            self.riffled.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "keeping the keys in force" in self.riffled.log_text(), 10,
                     what="the failed reload to be logged")
            writer.put_record(StreamName="orders-eu", Data=b"still", PartitionKey="k")
        finally:
            with open(self.credentials_path, "w") as f:
                f.write(CREDENTIALS)
            self.riffled.proc.send_signal(signal.SIGHUP)

    def riffle(self, *args, credentials=None, stdin=None):
        command = [os.environ["RIFFLE_CLI"], "--endpoint",
                   f"127.0.0.1:{self.riffled.ports['grpc']}", *args]
        if credentials is not None:
            command += ["--credentials", f"{credentials[0]}:{credentials[1]}"]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)

    def test_grpc_calls_need_a_bearer_token_of_a_key(self):
        anonymous = self.riffle("stream", "list")
        self.assertEqual(anonymous.returncode, 1)
        self.assertIn("UnrecognizedClientException", anonymous.stderr)
        wrong = self.riffle("stream", "list", credentials=(ADMIN[0], "wrong"))
        self.assertIn("UnrecognizedClientException", wrong.stderr)
        # The flag after the subcommand, as every global flag.
        listed = self.riffle("--json", "stream", "list", credentials=READER)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("orders-eu", listed.stdout)
        self.assertNotIn("payroll", listed.stdout)
        denied = self.riffle("produce", "orders-eu", "--key", "k", credentials=READER,
                             stdin="not allowed\n")
        self.assertEqual(denied.returncode, 1)
        self.assertIn("AccessDeniedException", denied.stderr)
        hidden = self.riffle("stream", "describe", "payroll", credentials=READER)
        self.assertIn("AccessDeniedException", hidden.stderr)
        produced = self.riffle("produce", "payroll", "--key", "k", credentials=ADMIN,
                               stdin="by grpc\n")
        self.assertEqual(produced.returncode, 0, produced.stderr)
        it = self.admin.get_shard_iterator(StreamName="payroll", ShardId="shardId-000000000000",
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        data = [r["Data"] for r in self.admin.get_records(ShardIterator=it)["Records"]]
        self.assertIn(b"by grpc", data)
        self.assertNotIn(b"not allowed", data)

    def _preflight(self, origin):
        conn = http.client.HTTPConnection("127.0.0.1", self.riffled.port, timeout=30)
        try:
            conn.request("OPTIONS", "/", headers={"Origin": origin,
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers":
                                                      "content-type,x-amz-target"})
            resp = conn.getresponse()
            resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def test_cors_answers_only_listed_origins(self):
        status, headers = self._preflight("https://console.example")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("access-control-allow-origin"), "https://console.example")
        self.assertEqual(headers.get("access-control-allow-methods"), "POST")
        status, headers = self._preflight("https://evil.example")
        self.assertEqual(status, 403)
        self.assertNotIn("access-control-allow-origin", headers)
        body = b"{}"
        signed = signed_headers(self.riffled.host, "ListStreams", body, ADMIN[0], ADMIN[1])
        evil = self.riffled.raw("ListStreams", raw_body=body, sign=False,
                                headers=dict(signed, Origin="https://evil.example"))
        self.assertNotIn("access-control-allow-origin", evil.headers)
        listed = self.riffled.raw("ListStreams", raw_body=body, sign=False,
                                  headers=dict(signed, Origin="https://console.example"))
        self.assertEqual(listed.headers.get("access-control-allow-origin"),
                         "https://console.example")
        self.assertIn("x-amzn-RequestId", listed.headers.get("access-control-expose-headers"))


class DefaultsTest(unittest.TestCase):
    def run_riffled(self, *args):
        with tempfile.TemporaryDirectory() as data:
            return subprocess.run([riffled_path(), "--data-dir", data, "--kinesis-port", "0",
                                   "--grpc-port", "0", "--metrics-port", "0",
                                   "--console-port", "0", *args],
                                  capture_output=True, text=True, timeout=30)

    def test_no_cors_headers_without_cors_origins(self):
        riffled = RiffledProcess()
        riffled.start()
        try:
            result = riffled.raw("ListStreams", headers={"Origin": "http://localhost:3000"})
            self.assertEqual(result.status, 200)
            self.assertNotIn("access-control-allow-origin", result.headers)
        finally:
            self.assertEqual(riffled.stop(), 0)
            riffled.cleanup()

    def test_a_public_bind_without_credentials_is_refused(self):
        refused = self.run_riffled("--bind", "0.0.0.0")
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("refusing to listen on 0.0.0.0 without --credentials-file",
                      refused.stderr)

    def test_a_public_bind_starts_with_insecure(self):
        with tempfile.TemporaryDirectory() as work:
            riffled = RiffledProcess(["--insecure"], data_dir=None)
            riffled.command = lambda: [riffled.binary, "--data-dir", riffled.data_dir,
                                       "--kinesis-port", "0", "--grpc-port", "0",
                                       "--metrics-port", "0", "--ports-file",
                                       riffled.ports_file, "--bind", "0.0.0.0", "--insecure"]
            riffled.start()
            try:
                self.assertEqual(riffled.raw("ListStreams").status, 200)
            finally:
                self.assertEqual(riffled.stop(), 0)
                riffled.cleanup()

    def test_a_broken_credentials_file_stops_the_start_with_the_reason(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write('[[key]]\nid = "a"\nsecret = "b"\naccount = "1"\nstreams = ["*"]\n'
                    'operations = ["read"]\n')
            f.flush()
            result = self.run_riffled("--credentials-file", f.name)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("must be 12 digits", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
