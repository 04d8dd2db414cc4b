"""Starts the real riffled for the Kinesis HTTP tests and gives them clients.

RiffledProcess runs one daemon on a temp data dir with every port 0 and a
ports file, waits for the file with a deadline, and hands out boto3 clients,
an `aws` CLI runner and raw HTTP helpers. RiffledTestCase starts one daemon
per test (or per class with `daemon_scope = "class"`), and fails the test
unless SIGTERM makes the daemon exit 0. riffled's log is kept in a file and
printed when a test fails.

The daemon binary comes from the environment variable RIFFLED (CMake sets it
to $<TARGET_FILE:riffled>).
"""

import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config

ACCOUNT = "000000000000"
REGION = "us-east-1"
ACCESS_KEY = "AKIDRIFFLETEST"
SECRET_KEY = "riffle-test-secret"
JSON_CT = "application/x-amz-json-1.1"
TARGET_PREFIX = "Kinesis_20131202."
MAX_HASH = 2**128 - 1

# The aws CLI to run; RIFFLE_TEST_AWS_CLI picks another one (say awscli v2
# at /usr/bin/aws next to a pip-installed v1).
AWS_CLI = os.environ.get("RIFFLE_TEST_AWS_CLI") or "aws"

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0


def executable_from_env(variable, example):
    """The executable the environment variable names (CMake sets it to a target's file)."""
    path = os.environ.get(variable)
    if not path:
        raise RuntimeError(
            f"{variable} is not set: run through ctest, or export {variable}={example}")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{variable}={path} is not an executable file")
    return path


def riffled_path():
    return executable_from_env("RIFFLED", "/path/to/riffled")


def wait_for(predicate, timeout, interval=0.02, what="condition"):
    """Polls predicate() until it returns a truthy value; raises on deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def stream_arn(name, account=ACCOUNT, region=REGION):
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hash_key(partition_key):
    """Kinesis hash of a partition key: MD5 of its UTF-8 bytes, big-endian."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def initial_ranges(n):
    """Hash key ranges of a new n-shard stream (kinesis-api reference 3.4)."""
    step = 2**128 // n
    ranges = [(i * step, (i + 1) * step - 1) for i in range(n)]
    ranges[-1] = (ranges[-1][0], MAX_HASH)
    return ranges


def shard_for(h, ranges):
    for i, (lo, hi) in enumerate(ranges):
        if lo <= h <= hi:
            return i
    raise AssertionError(f"hash {h} outside every range")


def shard_id(i):
    return "shardId-%012d" % i


def cli_major_version(aws=AWS_CLI):
    out = subprocess.run([aws, "--version"], capture_output=True, text=True, timeout=60)
    text = (out.stdout + out.stderr).strip()
    m = re.match(r"aws-cli/(\d+)\.", text)
    if not m:
        raise AssertionError(f"cannot read the aws CLI version from {text!r}")
    return int(m.group(1))


def available_clis():
    """[(path, major version)] of the aws CLIs to test: the chosen one first,
    then one more of the other major version if this machine has it (pip's
    awscli v1 and Debian's awscli v2 are often both installed)."""
    first = shutil.which(AWS_CLI) or AWS_CLI
    found = [(first, cli_major_version(first))]
    for candidate in ("aws", "/usr/bin/aws", "/usr/local/bin/aws"):
        path = shutil.which(candidate)
        if not path or os.path.realpath(path) == os.path.realpath(first):
            continue
        try:
            major = cli_major_version(path)
        except (AssertionError, OSError, subprocess.SubprocessError):
            continue
        if major not in [m for _, m in found]:
            found.append((path, major))
    return found


class HttpResult:
    """A raw HTTP response: status, headers (lower-cased names) and body."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else {}

    def __repr__(self):
        return f"HttpResult({self.status} {self.reason}, {self.headers}, {self.body[:400]!r})"


def auth_headers(host, target, body, access_key=ACCESS_KEY, region=REGION):
    """Headers of a botocore-style SigV4-signed Kinesis request."""
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=f"http://{host}/", data=body,
        headers={"Content-Type": JSON_CT, "X-Amz-Target": target})
    creds = botocore.credentials.Credentials(access_key, SECRET_KEY)
    botocore.auth.SigV4Auth(creds, "kinesis", region).add_auth(req)
    return {k: v for k, v in req.headers.items()}


class RiffledProcess:
    """One riffled daemon on a data dir that survives restarts."""

    def __init__(self, extra_args=(), data_dir=None, name="riffled"):
        self.binary = riffled_path()
        self.extra_args = list(extra_args)
        self._own_dir = None
        if data_dir is None:
            self._own_dir = tempfile.mkdtemp(prefix="riffle-test-")
            data_dir = os.path.join(self._own_dir, "data")
            os.makedirs(data_dir)
        self.data_dir = data_dir
        work = self._own_dir or tempfile.mkdtemp(prefix="riffle-test-")
        self.work_dir = work
        self.ports_file = os.path.join(work, "ports.json")
        self.log_path = os.path.join(work, name + ".log")
        self.proc = None
        self.ports = None
        self.starts = 0
        self._clients = {}

    # -- life cycle -------------------------------------------------------

    def command(self):
        cmd = [self.binary, "--data-dir", self.data_dir, "--kinesis-port", "0",
               "--grpc-port", "0", "--metrics-port", "0", "--ports-file",
               self.ports_file, "--bind", "127.0.0.1"]
        # The console's default port is one fixed port for every daemon of the machine: a test
        # that wants the console passes a free port of its own.
        if "--console-port" not in self.extra_args:
            cmd += ["--console-port", "0"]
        return cmd + self.extra_args

    def start(self):
        assert self.proc is None, "already running"
        if os.path.exists(self.ports_file):
            os.unlink(self.ports_file)
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"=== start #{self.starts}: {' '.join(self.command())}\n".encode())
        log.flush()
        try:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        finally:
            log.close()
        self._clients = {}
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise AssertionError(f"riffled exited with {rc} before writing its ports file\n"
                                     + self.log_tail())
            ports = self._read_ports()
            if ports:
                break
            if time.monotonic() >= deadline:
                self.kill9()
                raise AssertionError(f"riffled wrote no ports file within {START_DEADLINE_S}s\n"
                                     + self.log_tail())
            time.sleep(0.02)
        for key in ("kinesis", "grpc"):
            if not isinstance(ports.get(key), int) or not 0 < ports[key] < 65536:
                raise AssertionError(f"ports file lacks a valid {key!r} port: {ports}")
        # The metrics port is checked by test_connections, not for every test.
        if not isinstance(ports.get("metrics"), int):
            raise AssertionError(f"ports file lacks the 'metrics' port: {ports}")
        self.ports = ports
        # The contract says the file appears once all listeners are up.
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass
        return self

    def _read_ports(self):
        try:
            with open(self.ports_file) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        # The file is written atomically, so a partial JSON document is a bug.
        return json.loads(text)

    def stop(self, timeout=STOP_DEADLINE_S):
        """SIGTERM, wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc = None
        self._append_log(f"=== stopped with SIGTERM: exit code {rc}\n")
        return rc

    def kill9(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self._append_log("=== killed with SIGKILL\n")

    def restart(self, graceful=True):
        if graceful:
            rc = self.stop()
            if rc != 0:
                raise AssertionError(f"riffled exited with {rc} on SIGTERM\n" + self.log_tail())
        else:
            self.kill9()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        if self.proc is not None:
            self.kill9()
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)
        elif self.work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _append_log(self, text):
        with open(self.log_path, "ab") as f:
            f.write(text.encode())

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, limit=20000):
        text = self.log_text()
        if len(text) > limit:
            text = "...\n" + text[-limit:]
        return "----- riffled log -----\n" + text + "\n----- end of riffled log -----"

    # -- clients ----------------------------------------------------------

    @property
    def port(self):
        return self.ports["kinesis"]

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self):
        return f"http://{self.host}"

    @property
    def console_host(self):
        return f"127.0.0.1:{self.ports['console']}"

    def client(self, retries=True, access_key=ACCESS_KEY, region=REGION, **config):
        """A boto3 Kinesis client; retries=False makes exactly one attempt."""
        key = (retries, access_key, region, tuple(sorted(config.items())))
        if key in self._clients:
            return self._clients[key]
        cfg = dict(connect_timeout=10, read_timeout=60)
        cfg.update(config)
        if not retries:
            cfg["retries"] = {"total_max_attempts": 1}
        session = boto3.session.Session()
        c = session.client("kinesis", endpoint_url=self.endpoint, region_name=region,
                           aws_access_key_id=access_key, aws_secret_access_key=SECRET_KEY,
                           config=Config(**cfg))
        self._clients[key] = c
        return c

    def cli_env(self, **extra):
        env = dict(os.environ)
        for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                  "AWS_SECURITY_TOKEN", "AWS_CA_BUNDLE"):
            env.pop(k, None)
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID=ACCESS_KEY,
                   AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
                   AWS_REGION=REGION, AWS_PAGER="",
                   AWS_CONFIG_FILE=os.path.join(self.work_dir, "aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.work_dir, "aws-credentials"),
                   AWS_EC2_METADATA_DISABLED="true", RIFFLE_TEST_AWS_CLI=AWS_CLI)
        env.update(extra)
        return env

    def aws(self, *args, check=True, timeout=90):
        """Runs `aws --endpoint-url ... <args>`; returns the CompletedProcess."""
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint] + list(args)
        p = subprocess.run(cmd, env=self.cli_env(), capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\n"
                                 f"stderr: {p.stderr}")
        return p

    def aws_json(self, *args, **kw):
        p = self.aws(*args, **kw)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    # -- raw HTTP ---------------------------------------------------------

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw(self, operation, body=None, headers=None, raw_body=None, target=None,
            sign=True, conn=None, drop_headers=()):
        """Sends one request; body is a dict (JSON-encoded) or raw_body bytes."""
        if raw_body is None:
            raw_body = json.dumps({} if body is None else body).encode()
        elif isinstance(raw_body, str):
            raw_body = raw_body.encode()
        if target is None:
            target = TARGET_PREFIX + operation
        h = {"Content-Type": JSON_CT, "X-Amz-Target": target}
        if sign:
            h = auth_headers(self.host, target, raw_body)
        h["Accept-Encoding"] = "identity"
        h.update(headers or {})
        for name in drop_headers:
            for k in [k for k in h if k.lower() == name.lower()]:
                del h[k]
        own = conn is None
        if own:
            conn = self.connection()
        try:
            conn.request("POST", "/", body=raw_body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return HttpResult(resp.status, resp.reason,
                              {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            if own:
                conn.close()

    def raw_ok(self, operation, body=None, **kw):
        r = self.raw(operation, body, **kw)
        if r.status != 200:
            raise AssertionError(f"{operation} {body}: {r}")
        return r.json()


def read_all_records(client, stream, shard, start="TRIM_HORIZON", limit=10000, **it_args):
    """Reads a shard from `start` until an empty batch at the tip."""
    it = client.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType=start,
                                   **it_args)["ShardIterator"]
    records = []
    for _ in range(10000):
        out = client.get_records(ShardIterator=it, Limit=limit)
        records.extend(out["Records"])
        it = out["NextShardIterator"]
        if not out["Records"] and out.get("MillisBehindLatest", 0) == 0:
            return records
    raise AssertionError("shard never reached its tip")


class MetricsRiffled(RiffledProcess):
    """riffled with a metrics listener on a port picked for it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.metrics_port = free_port()

    def command(self):
        cmd = super().command()
        i = cmd.index("--metrics-port")
        cmd[i + 1] = str(self.metrics_port)
        return cmd


class RiffledTestCase(unittest.TestCase):
    """Starts riffled for each test (or once per class) and checks its exit.

    Subclasses set `riffled_args` for extra flags and `daemon_scope = "class"`
    to share one daemon between the tests of a class; then each test is
    followed by a request that proves the daemon still answers.
    """

    riffled_args = ()
    riffled_factory = RiffledProcess  # MetricsRiffled for a test that scrapes the metrics port
    daemon_scope = "test"
    _class_daemon = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.daemon_scope == "class":
            cls._class_daemon = RiffledProcess(cls.riffled_args)
            try:
                cls._class_daemon.start()
            except BaseException:
                sys.stderr.write(cls._class_daemon.log_tail() + "\n")
                cls._class_daemon.cleanup()
                raise

    @classmethod
    def tearDownClass(cls):
        d = cls._class_daemon
        if d is not None:
            cls._class_daemon = None
            try:
                rc = d.stop()
                if rc != 0:
                    sys.stderr.write(d.log_tail() + "\n")
                    raise AssertionError(f"riffled exited with {rc} after SIGTERM (expected 0)")
            finally:
                d.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self._names = 0
        if self.daemon_scope == "class":
            self.riffled = self._class_daemon
        else:
            self.riffled = self.riffled_factory(self.riffled_args)
            try:
                self.riffled.start()
            except BaseException:
                sys.stderr.write(self.riffled.log_tail() + "\n")
                self.riffled.cleanup()
                raise

    def tearDown(self):
        d = self.riffled
        try:
            if self.daemon_scope == "class":
                if not d.alive():
                    self.fail(f"riffled died during {self.id()} (exit {d.proc.returncode})\n"
                              + d.log_tail())
                r = d.raw("ListStreams", {})
                # A refusal by ListStreams' rate (5 calls/s) is an answer too.
                throttled = (r.status == 400 and
                             r.headers.get("x-amzn-errortype") == "LimitExceededException")
                self.assertTrue(r.status == 200 or throttled,
                                f"daemon does not answer after the test: {r}")
            else:
                if d.proc is not None and d.proc.poll() is not None:
                    self.fail(f"riffled died during the test with exit code "
                              f"{d.proc.returncode}\n" + d.log_tail())
                rc = d.stop()
                self.assertEqual(rc, 0, "riffled must exit 0 on SIGTERM\n" + d.log_tail())
        finally:
            if self._test_failed():
                sys.stderr.write(f"\n{self.id()} failed; riffled log follows\n"
                                 + d.log_tail() + "\n")
            if self.daemon_scope != "class":
                d.cleanup()
        super().tearDown()

    def _test_failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if hasattr(outcome, "errors"):  # Python < 3.11
            return any(exc is not None for _, exc in outcome.errors)
        return not getattr(outcome, "success", True)

    # -- helpers ----------------------------------------------------------

    @property
    def kinesis(self):
        return self.riffled.client()

    @property
    def kinesis1(self):
        """A client that makes exactly one attempt per call."""
        return self.riffled.client(retries=False)

    def unique_name(self, prefix="s"):
        self._names += 1
        base = re.sub(r"[^a-zA-Z0-9_.-]", "-", self._testMethodName)[5:45]
        return f"{prefix}-{base}-{self._names}-{uuid.uuid4().hex[:6]}"

    def create_stream(self, name=None, shards=1, on_demand=False, **kw):
        name = name or self.unique_name()
        if on_demand:
            self.kinesis.create_stream(StreamName=name,
                                       StreamModeDetails={"StreamMode": "ON_DEMAND"}, **kw)
        else:
            self.kinesis.create_stream(StreamName=name, ShardCount=shards, **kw)
        self.wait_active(name)
        return name

    def wait_active(self, name, timeout=10):
        def active():
            s = self.kinesis.describe_stream_summary(StreamName=name)
            return s["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
        wait_for(active, timeout, interval=0.05, what=f"stream {name} ACTIVE")

    def assertClientError(self, code, call, *args, message=None, message_re=None, status=400,
                          **kwargs):
        """Asserts that a boto3 call fails with exactly this code (and message)."""
        import botocore.exceptions
        try:
            call(*args, **kwargs)
        except botocore.exceptions.ClientError as e:
            err = e.response["Error"]
            self.assertEqual(err.get("Code"), code, f"wrong error code: {e.response}")
            self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], status,
                             f"wrong HTTP status: {e.response}")
            if message is not None:
                self.assertEqual(err.get("Message"), message)
            if message_re is not None:
                self.assertRegex(err.get("Message", ""), message_re)
            return e
        self.fail(f"expected {code}, but the call succeeded")

    def assertRawError(self, result, code, message=None, message_re=None, status=400):
        """Checks a raw error response: status, both code carriers, headers."""
        self.assertEqual(result.status, status, f"wrong status: {result}")
        self.assertEqual(result.headers.get("x-amzn-errortype"), code,
                         f"x-amzn-ErrorType: {result}")
        self.assertEqual(result.headers.get("content-type"), JSON_CT, f"Content-Type: {result}")
        self.assertTrue(result.headers.get("x-amzn-requestid"), f"no x-amzn-RequestId: {result}")
        self.assertIn("content-length", result.headers, f"no Content-Length: {result}")
        self.assertEqual(int(result.headers["content-length"]), len(result.body))
        try:
            body = json.loads(result.body)
        except ValueError:
            self.fail(f"error body is not JSON: {result}")
        self.assertIsInstance(body, dict, f"error body is not an object: {result}")
        self.assertEqual(body.get("__type"), code, f"__type: {result}")
        # AWS's deserializer writes "Message" for the SerializationExceptions it raises; every
        # other error carries "message".
        key = "Message" if code == "SerializationException" else "message"
        self.assertIsInstance(body.get(key), str, f"no {key}: {result}")
        if message is not None:
            self.assertEqual(body[key], message)
        if message_re is not None:
            self.assertRegex(body[key], message_re)
        return body

    def now(self):
        return datetime.datetime.now(datetime.timezone.utc)
