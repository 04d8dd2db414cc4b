"""The web console in a real browser: browser/console_browser.cjs drives Debian's chromium
through puppeteer-core against a real riffled, and fails on the first thing the page does not
show. Screenshots of every page are left in CONSOLE_SCREENSHOTS (the build tree).

Without chromium, node or the npm packages the test fails: it never passes without a browser.
"""

import os
import shutil
import subprocess
import unittest

from harness import RiffledTestCase, free_port

HERE = os.path.dirname(os.path.abspath(__file__))


class ConsoleBrowserTest(RiffledTestCase):
    riffled_args = ("--console-port", str(free_port()))

    def test_seed_console_steps_in_chromium(self):
        chromium = shutil.which("chromium")
        self.assertIsNotNone(chromium, "chromium is not installed (scripts/lib.sh TEST_PACKAGES)")
        self.assertIsNotNone(shutil.which("node"), "node is not installed")
        node_path = os.environ.get("NODE_PATH", "")
        self.assertTrue(os.path.isdir(os.path.join(node_path, "puppeteer-core")),
                        f"puppeteer-core is not installed under NODE_PATH={node_path!r}: build "
                        "the console_browser_test_packages target")
        screenshots = os.environ.get("CONSOLE_SCREENSHOTS") or os.path.join(
            self.riffled.work_dir, "screenshots")
        env = dict(os.environ, CONSOLE_URL=f"http://{self.riffled.console_host}",
                   KINESIS_ENDPOINT=self.riffled.endpoint, CONSOLE_SCREENSHOTS=screenshots,
                   CHROMIUM=chromium)
        p = subprocess.run(["node", os.path.join(HERE, "browser", "console_browser.cjs")],
                           env=env, capture_output=True, text=True, timeout=240)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + "\n" + self.riffled.log_tail())
        self.assertIn("all steps passed", p.stdout)


if __name__ == "__main__":
    unittest.main()
