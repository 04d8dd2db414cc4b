"""Runs `riffle trigger` as a real process against the riffled of a RiffledTestCase.

TriggerTestCase starts riffled (console off) per test; run_trigger() starts a
runner whose handler output goes to a file and whose progress (stderr) goes to
another; every runner still alive at the end of a test is killed, and a test
that stops one with SIGTERM checks it exits 0. The CLI binary comes from the
environment variable RIFFLE_CLI (CMake sets it).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile

from harness import RiffledTestCase, executable_from_env, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


class Runner:
    """One `riffle trigger` process."""

    def __init__(self, args, work_dir, name):
        self.args = args
        self.stdout_path = os.path.join(work_dir, name + ".out")
        self.stderr_path = os.path.join(work_dir, name + ".err")
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def output(self):
        with open(self.stdout_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def progress(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, timeout=30):
        """SIGTERM; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class TriggerTestCase(RiffledTestCase):
    # The web console's port must not collide between tests that run at once.
    riffled_args = ("--console-port", "0")

    def setUp(self):
        super().setUp()
        self.cli = executable_from_env("RIFFLE_CLI", "/path/to/riffle")
        self.work_dir = tempfile.mkdtemp(prefix="riffle-trigger-test-")
        self.runners = []

    def tearDown(self):
        for runner in self.runners:
            if runner.proc.poll() is None:
                runner.kill9()
            if self._test_failed():
                sys.stderr.write(f"\n--- {runner.stderr_path}\n" + runner.progress()[-5000:])
        subprocess.run(["rm", "-rf", self.work_dir], check=False)
        super().tearDown()

    @property
    def grpc_endpoint(self):
        return f"127.0.0.1:{self.riffled.ports['grpc']}"

    def riffle(self, *args, input_text=None):
        """Runs the riffle CLI (global flags after the subcommand); its stdout."""
        out = subprocess.run([self.cli, *args, "--endpoint", self.grpc_endpoint],
                             input=input_text, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, f"riffle {args} failed: {out.stderr}")
        return out.stdout

    def create_stream(self, name, shards):
        self.riffle("stream", "create", name, "--shards", str(shards))

    def run_trigger(self, stream, group, *handler_and_options, name="runner"):
        runner = Runner([self.cli, "trigger", "--stream", stream, "--group", group,
                         *handler_and_options, "--endpoint", self.grpc_endpoint],
                        self.work_dir, f"{name}-{len(self.runners)}")
        self.runners.append(runner)
        return runner

    def describe_group(self, stream, group):
        """`riffle group describe --json`: one dict per shard. Waits for a runner started
        just before to create the group."""
        def described():
            out = subprocess.run([self.cli, "group", "describe", "--stream", stream, "--group",
                                  group, "--json", "--endpoint", self.grpc_endpoint],
                                 capture_output=True, text=True, timeout=60)
            if "ResourceNotFoundException: Consumer group" in out.stderr:
                return None
            self.assertEqual(out.returncode, 0, f"riffle group describe failed: {out.stderr}")
            return [json.loads(line) for line in out.stdout.splitlines()]
        return self.wait_for(described, 10, f"group {group} to exist")

    def write_script(self, name, text):
        path = os.path.join(self.work_dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def wait_for(self, predicate, timeout, what):
        return wait_for(predicate, timeout, interval=0.1, what=what)
