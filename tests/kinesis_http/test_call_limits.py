"""AWS's call rates through the Kinesis API: per account for the control plane, per shard for
GetShardIterator; LimitExceededException and ProvisionedThroughputExceededException in AWS's
words, absorbed by the SDKs' retries, and off with --shard-quotas=off.

A rate admits ten seconds' worth of calls at once and then refills over time, so each test calls
as fast as it can until the first refusal and checks the count against the rate and the time
taken.
"""

import time
import unittest

import botocore.exceptions

from harness import ACCOUNT, RiffledTestCase


class CallLimitsTest(RiffledTestCase):

    def calls_until_refused(self, call, limit=2000):
        """(calls that succeeded, seconds they took, the refusal) calling as fast as possible."""
        start = time.monotonic()
        for n in range(limit):
            try:
                call()
            except botocore.exceptions.ClientError as e:
                return n, time.monotonic() - start, e
        self.fail(f"{limit} calls and none refused")

    def assertRate(self, rate, succeeded, seconds):
        # Ten seconds' burst, plus what refilled while the calls ran.
        self.assertGreaterEqual(succeeded, 10 * rate)
        self.assertLessEqual(succeeded, 10 * rate + int(seconds * rate) + 1)

    def test_describe_stream_is_ten_calls_a_second_per_account(self):
        name = self.create_stream()
        k = self.kinesis1
        n, seconds, refusal = self.calls_until_refused(lambda: k.describe_stream(StreamName=name))
        self.assertRate(10, n, seconds)
        self.assertEqual(refusal.response["Error"]["Code"], "LimitExceededException")
        self.assertEqual(refusal.response["Error"]["Message"],
                         f"Rate exceeded for stream {name} under account {ACCOUNT}.")
        # Another operation has its own rate; a tenth of a second later, the first is back.
        k.describe_stream_summary(StreamName=name)
        time.sleep(0.15)
        k.describe_stream(StreamName=name)

    def test_list_streams_is_five_calls_a_second(self):
        k = self.kinesis1
        n, seconds, refusal = self.calls_until_refused(lambda: k.list_streams())
        self.assertRate(5, n, seconds)
        self.assertEqual(refusal.response["Error"]["Message"],
                         f"Rate exceeded for account {ACCOUNT}.")

    def test_get_shard_iterator_is_five_calls_a_second_per_shard(self):
        name = self.create_stream(shards=2)
        k = self.kinesis1

        def iterator(shard):
            return k.get_shard_iterator(StreamName=name, ShardId=f"shardId-00000000000{shard}",
                                        ShardIteratorType="LATEST")

        n, seconds, refusal = self.calls_until_refused(lambda: iterator(0))
        self.assertRate(5, n, seconds)
        self.assertEqual(refusal.response["Error"]["Code"],
                         "ProvisionedThroughputExceededException")
        self.assertEqual(refusal.response["Error"]["Message"],
                         f"Rate exceeded for shard shardId-000000000000 in stream {name} under "
                         f"account {ACCOUNT}.")
        self.assertIn("ShardIterator", iterator(1))

    def test_sdks_retry_and_get_through(self):
        """boto3 and the aws CLI retry a LimitExceededException: calls beyond the burst still
        succeed, only slower."""
        name = self.create_stream()
        k = self.kinesis  # the default retry policy
        start = time.monotonic()
        for _ in range(240):  # the burst of 200, then 40 more at 20/s
            k.describe_stream_summary(StreamName=name)
        self.assertGreater(time.monotonic() - start, 1.5, "240 calls cannot pass in a burst")
        for _ in range(50):  # use up ListStreams' burst; the aws CLI then waits its turn
            k.list_streams()
        for _ in range(3):
            self.riffled.aws("kinesis", "list-streams")


class CallLimitsOffTest(RiffledTestCase):
    riffled_args = ("--shard-quotas=off",)

    def test_no_call_is_refused(self):
        name = self.create_stream()
        k = self.kinesis1
        for _ in range(50):
            k.describe_stream(StreamName=name)
            k.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                 ShardIteratorType="LATEST")


if __name__ == "__main__":
    unittest.main()
