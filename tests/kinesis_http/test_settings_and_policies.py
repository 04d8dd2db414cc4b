"""Resource policies, account settings and warm throughput, through boto3 and the aws CLI.

Each is checked as AWS's API reference describes it: the shapes of the answers, the errors of
bad input, and that what was set survives a restart of riffled.
"""

import json
import time
import unittest

from harness import RiffledTestCase

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "ReadersOfTheAnalyticsAccount",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        "Resource": "*",
    }],
}, indent=2)


class ResourcePolicyTest(RiffledTestCase):

    def stream_arn(self, name):
        return self.kinesis.describe_stream_summary(
            StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def test_a_stream_policy_is_stored_verbatim_and_survives_a_restart(self):
        name = self.create_stream()
        arn = self.stream_arn(name)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        self.kinesis.put_resource_policy(ResourceARN=arn, Policy=POLICY)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)
        self.riffled.stop()
        self.riffled.start()
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)
        self.kinesis.delete_resource_policy(ResourceARN=arn)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], "{}")

    def test_a_consumer_has_a_policy_of_its_own(self):
        name = self.create_stream()
        arn = self.stream_arn(name)
        consumer = self.kinesis.register_stream_consumer(
            StreamARN=arn, ConsumerName="reader")["Consumer"]["ConsumerARN"]
        self.kinesis.put_resource_policy(ResourceARN=consumer, Policy=POLICY)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=consumer)["Policy"], POLICY)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        # The policy belongs to that registration: the name registered again starts without.
        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer)
        time.sleep(1.1)  # a consumer ARN ends in its registration second
        again = self.kinesis.register_stream_consumer(
            StreamARN=arn, ConsumerName="reader")["Consumer"]["ConsumerARN"]
        self.assertNotEqual(again, consumer)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=again)["Policy"], "{}")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.get_resource_policy,
                               ResourceARN=consumer)

    def test_a_recreated_stream_does_not_inherit_the_old_policy(self):
        name = self.create_stream()
        arn = self.stream_arn(name)
        self.kinesis.put_resource_policy(ResourceARN=arn, Policy=POLICY)
        self.kinesis.delete_stream(StreamName=name)
        self.assertClientError("ResourceNotFoundException", self.kinesis1.get_resource_policy,
                               ResourceARN=arn)
        self.create_stream(name)
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], "{}")

    def test_bad_policies_are_refused_and_change_nothing(self):
        name = self.create_stream()
        arn = self.stream_arn(name)
        self.kinesis.put_resource_policy(ResourceARN=arn, Policy=POLICY)
        cases = {
            "not json": "not JSON",
            "[1, 2]": "must be a JSON object",
            '{"Version": "2012-10-17"}': "has no Statement",
            '{"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "*"}]}':
                "Effect",
            '{"Statement": [{"Effect": "Allow", "Action": "*"}]}': "Principal",
            '{"Statement": {"Effect": "Deny", "Principal": "*"}}': "Action",
        }
        for policy, why in cases.items():
            with self.subTest(policy=policy):
                self.assertClientError("InvalidArgumentException",
                                       self.kinesis1.put_resource_policy, ResourceARN=arn,
                                       Policy=policy, message_re=why)
        self.assertClientError("LimitExceededException", self.kinesis1.put_resource_policy,
                               ResourceARN=arn,
                               Policy=POLICY.replace("Readers", "R" * 21000))
        self.assertEqual(self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)

    def test_resources_that_do_not_exist_or_are_not_arns(self):
        missing = self.stream_arn(self.create_stream()).replace("stream/", "stream/missing-")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.put_resource_policy,
                               ResourceARN=missing, Policy=POLICY)
        self.assertClientError("ResourceNotFoundException", self.kinesis1.delete_resource_policy,
                               ResourceARN=missing)
        r = self.riffled.raw("GetResourcePolicy", {"ResourceARN": "not-an-arn"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["__type"], "ValidationException", r)

    def test_the_aws_cli_round_trips_a_policy(self):
        arn = self.stream_arn(self.create_stream())
        self.riffled.aws("kinesis", "put-resource-policy", "--resource-arn", arn, "--policy",
                         POLICY)
        got = self.riffled.aws_json("kinesis", "get-resource-policy", "--resource-arn", arn)
        self.assertEqual(got["Policy"], POLICY)


class AccountSettingsAndWarmThroughputTest(RiffledTestCase):

    def test_the_commitment_is_kept_for_its_minimum_day(self):
        settings = self.kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]
        self.assertEqual(settings, {"Status": "DISABLED"})
        before = time.time()
        enabled = self.kinesis.update_account_settings(
            MinimumThroughputBillingCommitment={"Status": "ENABLED"})[
                "MinimumThroughputBillingCommitment"]
        self.assertEqual(enabled["Status"], "ENABLED")
        started = enabled["StartedAt"].timestamp()
        self.assertLessEqual(abs(started - before), 5)
        self.assertAlmostEqual(enabled["EarliestAllowedEndAt"].timestamp() - started, 86400,
                               delta=1)
        # A disable within the first day is scheduled for its end, and shows as such.
        pending = self.kinesis.update_account_settings(
            MinimumThroughputBillingCommitment={"Status": "DISABLED"})[
                "MinimumThroughputBillingCommitment"]
        self.assertEqual(pending["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
        self.assertEqual(pending["EarliestAllowedEndAt"], enabled["EarliestAllowedEndAt"])
        self.riffled.stop()
        self.riffled.start()
        described = self.kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]
        self.assertEqual(described["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
        self.assertEqual(described["StartedAt"], enabled["StartedAt"])
        # Enabling again cancels the scheduled end and keeps the original start.
        again = self.kinesis.update_account_settings(
            MinimumThroughputBillingCommitment={"Status": "ENABLED"})[
                "MinimumThroughputBillingCommitment"]
        self.assertEqual(again["Status"], "ENABLED")
        self.assertEqual(again["StartedAt"], enabled["StartedAt"])

    def test_bad_settings_are_refused(self):
        r = self.riffled.raw("UpdateAccountSettings",
                             {"MinimumThroughputBillingCommitment": {"Status": "SOMETIMES"}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["__type"], "ValidationException", r)
        r = self.riffled.raw("UpdateAccountSettings", {})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["__type"], "ValidationException", r)

    def test_warm_throughput_needs_an_on_demand_stream_and_the_commitment(self):
        on_demand = self.create_stream(on_demand=True)
        provisioned = self.create_stream(shards=1)
        self.assertClientError("ValidationException",
                               self.kinesis1.update_stream_warm_throughput,
                               StreamName=on_demand, WarmThroughputMiBps=100,
                               message_re="MinimumThroughputBillingCommitment")
        self.kinesis.update_account_settings(
            MinimumThroughputBillingCommitment={"Status": "ENABLED"})
        self.assertClientError("ValidationException",
                               self.kinesis1.update_stream_warm_throughput,
                               StreamName=provisioned, WarmThroughputMiBps=100,
                               message_re="ON_DEMAND")
        self.assertClientError("LimitExceededException",
                               self.kinesis1.update_stream_warm_throughput,
                               StreamName=on_demand, WarmThroughputMiBps=10241)
        answer = self.kinesis.update_stream_warm_throughput(StreamName=on_demand,
                                                            WarmThroughputMiBps=200)
        self.assertEqual(answer["StreamName"], on_demand)
        self.assertTrue(answer["StreamARN"].endswith(":stream/" + on_demand), answer)
        self.assertEqual(answer["WarmThroughput"], {"TargetMiBps": 200, "CurrentMiBps": 200})
        summary = self.kinesis.describe_stream_summary(
            StreamName=on_demand)["StreamDescriptionSummary"]
        self.assertEqual(summary["WarmThroughput"], {"TargetMiBps": 200, "CurrentMiBps": 200})
        self.assertNotIn("WarmThroughput", self.kinesis.describe_stream_summary(
            StreamName=provisioned)["StreamDescriptionSummary"])
        created = self.unique_name()
        self.kinesis.create_stream(StreamName=created, WarmThroughputMiBps=50,
                                   StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.wait_active(created)
        self.assertEqual(self.kinesis.describe_stream_summary(
            StreamName=created)["StreamDescriptionSummary"]["WarmThroughput"]["TargetMiBps"], 50)
        # Back to PROVISIONED, the stream has no warm throughput any more.
        arn = self.kinesis.describe_stream_summary(
            StreamName=created)["StreamDescriptionSummary"]["StreamARN"]
        self.kinesis.update_stream_mode(StreamARN=arn,
                                        StreamModeDetails={"StreamMode": "PROVISIONED"})
        self.assertNotIn("WarmThroughput", self.kinesis.describe_stream_summary(
            StreamName=created)["StreamDescriptionSummary"])


if __name__ == "__main__":
    unittest.main()
