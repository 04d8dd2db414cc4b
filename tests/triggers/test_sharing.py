"""Runners with one consumer group share a stream's shards through their
leases, a runner that joins busy ones gets its share, and one takes over a
dead runner's shards within the lease time."""

import os
import sys
import time
import unittest

from test_delivery import HANDLER, batches
from trigger_harness import TriggerTestCase

LEASE_S = 3


class SharingTest(TriggerTestCase):

    def owners(self):
        return [s["lease_owner"] for s in self.describe_group("orders", "shared")]

    def start(self, log):
        return self.run_trigger("orders", "shared", "--exec",
                                f"{sys.executable} {HANDLER} {log} record",
                                "--starting-position", "TRIM_HORIZON",
                                "--lease-duration-s", str(LEASE_S))

    def test_two_runners_share_four_shards_and_one_takes_over_when_the_other_dies(self):
        self.create_stream("orders", 4)
        log_a = os.path.join(self.work_dir, "a.log")
        log_b = os.path.join(self.work_dir, "b.log")
        a = self.start(log_a)
        b = self.start(log_b)
        of = lambda runner: f":{runner.proc.pid}:"
        self.wait_for(lambda: sorted(sum(of(r) in o for o in self.owners()) for r in (a, b))
                      == [2, 2], 20, "each runner to hold two shards")

        a.kill9()
        killed = time.monotonic()
        self.wait_for(lambda: all(of(b) in o for o in self.owners()), LEASE_S + 5,
                      "the survivor to lease every shard")
        took = time.monotonic() - killed
        # The lease time, plus a round of the survivor per shard it takes (one per second) and
        # this poll.
        self.assertLess(took, LEASE_S + 4, f"takeover took {took:.1f}s")

        keys = [f"user-{i}" for i in range(40)]
        for key in keys:
            self.riffle("produce", "orders", "--key", key, input_text=key + "\n")
        self.wait_for(lambda: {d for batch in batches(log_b) for _, d in batch} >= set(keys), 30,
                      "the survivor to handle the records written after the takeover")
        self.assertEqual(b.stop(), 0, b.progress())

    def test_a_runner_that_joins_a_busy_one_gets_its_share(self):
        self.create_stream("orders", 4)
        a = self.start(os.path.join(self.work_dir, "a.log"))
        of = lambda runner: f":{runner.proc.pid}:"
        self.wait_for(lambda: all(of(a) in o for o in self.owners()), 20,
                      "the first runner to hold all four shards")
        b = self.start(os.path.join(self.work_dir, "b.log"))
        self.wait_for(lambda: sorted(sum(of(r) in o for o in self.owners()) for r in (a, b))
                      == [2, 2], 20, "the runners to hold two shards each")
        self.assertEqual(a.stop(), 0, a.progress())
        self.assertEqual(b.stop(), 0, b.progress())


if __name__ == "__main__":
    unittest.main()
