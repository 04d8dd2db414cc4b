"""Runs the JavaScript SDK v3 tests (js/*.test.cjs, `node --test`) against riffled.

The npm dependencies (js/package.json, pinned, with its lockfile) are
installed into JS_WORK_DIR (CMake points it into the build tree) when they
are missing there or package.json changed. Without node or npm the test
fails: it never passes without running the JavaScript client.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import RiffledProcess, RiffledTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
JS_SRC = os.path.join(HERE, "js")


def work_dir():
    return os.environ.get("JS_WORK_DIR") or os.path.join(tempfile.gettempdir(),
                                                         "riffle-kinesis-js")


def prepare(dest):
    """Copies the JS sources to dest and installs node_modules if needed."""
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(JS_SRC, "package.json"), "rb") as f:
        manifest = f.read()
    lock = os.path.join(JS_SRC, "package-lock.json")
    lock_bytes = b""
    if os.path.exists(lock):
        with open(lock, "rb") as f:
            lock_bytes = f.read()
    stamp = os.path.join(dest, ".installed-from")
    installed = os.path.join(dest, "node_modules", "@aws-sdk", "client-kinesis", "package.json")
    current = None
    if os.path.exists(stamp):
        with open(stamp, "rb") as f:
            current = f.read()
    for path in glob.glob(os.path.join(JS_SRC, "*.test.cjs")):
        shutil.copy(path, dest)
    if os.path.exists(installed) and current == manifest + lock_bytes:
        return None
    shutil.copy(os.path.join(JS_SRC, "package.json"), dest)
    if lock_bytes:
        shutil.copy(lock, dest)
    shutil.rmtree(os.path.join(dest, "node_modules"), ignore_errors=True)
    cmd = ["npm", "ci" if lock_bytes else "install", "--no-audit", "--no-fund"]
    p = subprocess.run(cmd, cwd=dest, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    with open(stamp, "wb") as f:
        f.write(manifest + lock_bytes)
    return None


class JavaScriptSdkTest(RiffledTestCase):
    def run_node_tests(self, endpoint, only=None, **env):
        """Runs the *.test.cjs files (or those named in `only`) against `endpoint`."""
        for tool in ("node", "npm"):
            self.assertIsNotNone(shutil.which(tool),
                                 f"{tool} is not installed; the JavaScript SDK tests need it")
        dest = work_dir()
        problem = prepare(dest)
        self.assertIsNone(problem, problem)
        tests = sorted(os.path.basename(p) for p in glob.glob(os.path.join(dest, "*.test.cjs"))
                       if only is None or os.path.basename(p) in only)
        self.assertTrue(tests, "no JavaScript test files")
        env = dict(os.environ, KINESIS_ENDPOINT=endpoint, AWS_EC2_METADATA_DISABLED="true",
                   **env)
        p = subprocess.run(["node", "--test"] + tests, cwd=dest, env=env, capture_output=True,
                           text=True, timeout=150)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, "node --test failed:\n" + out)
        passed = re.search(r"^# pass (\d+)$", out, re.M)
        failed = re.search(r"^# fail (\d+)$", out, re.M)
        self.assertIsNotNone(passed, out)
        self.assertIsNotNone(failed, out)
        self.assertGreaterEqual(int(passed.group(1)) + int(failed.group(1)), 18,
                                "fewer JavaScript tests ran than exist")
        self.assertEqual(failed.group(1), "0", out)
        print(out)

    def test_js_sdk_v3_core_flows(self):
        self.run_node_tests(self.riffled.endpoint)

    def test_js_sdk_v3_over_tls_with_verified_signatures(self):
        """The same flows over https, HTTP/2 by ALPN (the SDK's default handler, and with it
        SubscribeToShard) and HTTP/1.1, trusting the CA of `riffle certs create`, with a
        credentials file holding the tests' key: every signature is verified, over both HTTP
        versions."""
        with tempfile.TemporaryDirectory() as work:
            credentials = os.path.join(work, "credentials.toml")
            with open(credentials, "w") as f:
                f.write('[[key]]\nid = "AKIDJSTEST"\nsecret = "js-test-secret"\n'
                        'account = "000000000000"\nstreams = ["*"]\n'
                        'operations = ["read", "write", "admin"]\n')
            certs = os.path.join(work, "certs")
            made = subprocess.run([os.environ["RIFFLE_CLI"], "certs", "create", "--out", certs],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(made.returncode, 0, made.stderr)
            tls = RiffledProcess(["--tls-cert", os.path.join(certs, "server.pem"),
                                  "--tls-key", os.path.join(certs, "server-key.pem"),
                                  "--credentials-file", credentials])
            tls.start()
            try:
                # The CBOR tests sign by hand with a made-up key; the SDK signs for real.
                self.run_node_tests(f"https://127.0.0.1:{tls.port}", only={"kinesis.test.cjs"},
                                    NODE_EXTRA_CA_CERTS=os.path.join(certs, "ca.pem"))
            finally:
                self.assertEqual(tls.stop(), 0)
                tls.cleanup()


if __name__ == "__main__":
    unittest.main()
