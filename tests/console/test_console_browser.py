"""The web console in a real browser: browser/console_browser.cjs drives Debian's chromium
through puppeteer-core against a real riffled, and fails on the first thing the page does not
show. Screenshots of every page are left in CONSOLE_SCREENSHOTS (the build tree).

Without chromium, node or the npm packages the test fails: it never passes without a browser.
"""

import base64
import http.client
import json
import os
import shutil
import subprocess
import unittest

import test_console_api  # the module, not its classes: they run in their own test

from harness import RiffledTestCase, free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def run_in_chromium(test, script, riffled, **env_extra):
    """Runs browser/<script> against `riffled`'s console; fails the test unless it passes."""
    chromium = shutil.which("chromium")
    test.assertIsNotNone(chromium, "chromium is not installed (scripts/lib.sh TEST_PACKAGES)")
    test.assertIsNotNone(shutil.which("node"), "node is not installed")
    node_path = os.environ.get("NODE_PATH", "")
    test.assertTrue(os.path.isdir(os.path.join(node_path, "puppeteer-core")),
                    f"puppeteer-core is not installed under NODE_PATH={node_path!r}: build "
                    "the console_browser_test_packages target")
    screenshots = os.environ.get("CONSOLE_SCREENSHOTS") or os.path.join(
        riffled.work_dir, "screenshots")
    env = dict(os.environ, CONSOLE_URL=f"http://{riffled.console_host}",
               KINESIS_ENDPOINT=riffled.endpoint, CONSOLE_SCREENSHOTS=screenshots,
               CHROMIUM=chromium, **env_extra)
    p = subprocess.run(["node", os.path.join(HERE, "browser", script)],
                       env=env, capture_output=True, text=True, timeout=240)
    test.assertEqual(p.returncode, 0, p.stdout + p.stderr + "\n" + riffled.log_tail())
    test.assertIn("all steps passed", p.stdout)


class ConsoleBrowserTest(RiffledTestCase):
    riffled_args = ("--console-port", str(free_port()))

    def test_seed_console_steps_in_chromium(self):
        run_in_chromium(self, "console_browser.cjs", self.riffled)


class ConsoleBrowserCredentialsTest(unittest.TestCase):
    """Under a credentials file: the reader's list and a record download, in chromium."""

    # The keys of the API's credentials test: an admin, and a reader of shop-* only.
    ADMIN = test_console_api.ConsoleCredentialsTest.ADMIN
    READER = test_console_api.ConsoleCredentialsTest.READER

    def setUp(self):
        self.work, self.riffled = test_console_api.ConsoleCredentialsTest.start_riffled()

    def tearDown(self):
        rc = self.riffled.stop()
        self.riffled.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)
        self.assertEqual(rc, 0)

    def as_admin(self, method, path, payload=None):
        conn = http.client.HTTPConnection(self.riffled.console_host, timeout=30)
        try:
            conn.request(method, path, body=None if payload is None else json.dumps(payload),
                         headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.ADMIN}"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def test_reader_sees_its_streams_and_downloads_a_record(self):
        for name in ("shop-orders", "hr-salaries"):
            status, body = self.as_admin("POST", "/api/streams",
                                         dict(name=name, mode="PROVISIONED", shard_count=1))
            self.assertEqual(status, 201, body)
        wait_for(lambda: self.as_admin("GET", "/api/streams/shop-orders")[1].get("status")
                 == "ACTIVE", 30, interval=0.1, what="shop-orders ACTIVE")
        record = bytes(range(256)) * 64  # 16 KiB: more than the page shows
        status, body = self.as_admin("POST", "/api/streams/shop-orders/records",
                                     {"partition_key": "k",
                                      "data_base64": base64.b64encode(record).decode()})
        self.assertEqual(status, 201, body)
        record_file = os.path.join(self.work, "record.bin")
        with open(record_file, "wb") as f:
            f.write(record)
        run_in_chromium(self, "console_credentials.cjs", self.riffled,
                        READER_KEY=self.READER,
                        READABLE_STREAM="shop-orders", HIDDEN_STREAM="hr-salaries",
                        RECORD_FILE=record_file)


if __name__ == "__main__":
    unittest.main()
