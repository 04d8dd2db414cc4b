"""Runs kinesis_go_sdk.go, the AWS SDK for Go v1 (service/kinesis) flows, against riffled.

The program is built from Debian's packages alone: golang-go and golang-github-aws-aws-sdk-go-dev,
which installs the SDK as GOPATH source under /usr/share/gocode. It is built in GOPATH mode with
the module proxy off, so nothing is downloaded, and with GOPATH's first entry and GOCACHE in a
temp dir, so any user can run it. When the toolchain or the SDK is missing the test is skipped,
except under CI (CI=true), where scripts/test installs both and a missing one is a failure.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import RiffledTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "kinesis_go_sdk.go")
GOPATH_SDK = "/usr/share/gocode"
SDK_PACKAGE = os.path.join(GOPATH_SDK, "src", "github.com", "aws", "aws-sdk-go", "service",
                           "kinesis")

# The steps kinesis_go_sdk.go runs; its summary line must count all of them.
STEPS = 6


def missing_toolchain():
    """What is missing to build the program, or None."""
    if shutil.which("go") is None:
        return "the go command is missing (Debian package golang-go)"
    if not os.path.isdir(SDK_PACKAGE):
        return f"{SDK_PACKAGE} is missing (Debian package golang-github-aws-aws-sdk-go-dev)"
    return None


def go_env(work):
    env = dict(os.environ)
    env.update(GO111MODULE="off", GOPATH=os.path.join(work, "gopath") + ":" + GOPATH_SDK,
               GOCACHE=os.path.join(work, "gocache"), GOFLAGS="", GOPROXY="off",
               GOTMPDIR="", CGO_ENABLED="0")
    return env


class GoSdkTest(RiffledTestCase):
    def test_aws_sdk_go_v1_kinesis_flows(self):
        problem = missing_toolchain()
        if problem:
            if os.environ.get("CI") == "true":
                self.fail(problem + "; scripts/test installs it, so under CI this is a failure")
            self.skipTest(problem)

        with tempfile.TemporaryDirectory(prefix="riffle-go-sdk-") as work:
            binary = os.path.join(work, "kinesis_go_sdk")
            started = time.monotonic()
            built = subprocess.run(["go", "build", "-o", binary, PROGRAM], cwd=HERE,
                                   env=go_env(work), capture_output=True, text=True, timeout=240)
            self.assertEqual(built.returncode, 0,
                             f"go build failed ({built.returncode}):\n{built.stdout}{built.stderr}")
            build_s = time.monotonic() - started

            started = time.monotonic()
            ran = subprocess.run([binary],
                                 env=dict(os.environ, KINESIS_ENDPOINT=self.riffled.endpoint),
                                 capture_output=True, text=True, timeout=270)
            out = ran.stdout + ran.stderr
            self.assertEqual(ran.returncode, 0, "kinesis_go_sdk failed:\n" + out)
            summary = re.search(r"^aws-sdk-go \S+ against \S+: (\d+) steps passed, (\d+) failed, "
                                r"(\d+) checks", out, re.M)
            self.assertIsNotNone(summary, "kinesis_go_sdk printed no summary:\n" + out)
            self.assertEqual((int(summary.group(1)), int(summary.group(2))), (STEPS, 0), out)
            # Each step makes dozens of checks; far fewer means steps returned early.
            self.assertGreater(int(summary.group(3)), 500, out)
            print(out + f"(go build {build_s:.1f} s, run {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    unittest.main()
