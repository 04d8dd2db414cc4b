"""Error responses of the Kinesis HTTP front end, as the wire and boto3 see them.

Each case checks the HTTP status, the bare code in both the body `__type` and
the `x-amzn-ErrorType` header, the JSON content type, `x-amzn-RequestId`, the
lower-case `message` (exactly, where the reference gives the wording), and
for most cases what botocore reports. After every test the daemon must still
answer (see RiffledTestCase with daemon_scope = "class").
"""

import base64
import json
import socket
import threading
import time
import unittest

import botocore.exceptions

from harness import (ACCOUNT, JSON_CT, TARGET_PREFIX, RiffledTestCase, auth_headers, shard_id,
                     stream_arn, wait_for)

TOO_BIG_HASH = str(2**128)


def vmsg(*items):
    n = len(items)
    head = f"{n} validation error{'s' if n > 1 else ''} detected: "
    return head + "; ".join(items)


class ErrorsTest(RiffledTestCase):
    daemon_scope = "class"
    riffled_args = ("--shard-quotas=off",)

    def raw(self, op, body=None, **kw):
        return self.riffled.raw(op, body, **kw)

    # -- ResourceNotFound / ResourceInUse ---------------------------------

    def test_unknown_stream_is_resource_not_found(self):
        msg = f"Stream no-such-stream under account {ACCOUNT} not found."
        for op, body in [
                ("DescribeStream", {"StreamName": "no-such-stream"}),
                ("DescribeStreamSummary", {"StreamName": "no-such-stream"}),
                ("DeleteStream", {"StreamName": "no-such-stream"}),
                ("ListShards", {"StreamName": "no-such-stream"}),
                ("PutRecord", {"StreamName": "no-such-stream", "Data": "eA==",
                               "PartitionKey": "p"}),
                ("PutRecords", {"StreamName": "no-such-stream",
                                "Records": [{"Data": "eA==", "PartitionKey": "p"}]}),
                ("AddTagsToStream", {"StreamName": "no-such-stream", "Tags": {"a": "b"}}),
                ("ListTagsForStream", {"StreamName": "no-such-stream"}),
                ("IncreaseStreamRetentionPeriod", {"StreamName": "no-such-stream",
                                                   "RetentionPeriodHours": 48}),
                ("EnableEnhancedMonitoring", {"StreamName": "no-such-stream",
                                              "ShardLevelMetrics": ["ALL"]}),
                ("DescribeStream", {"StreamARN": stream_arn("no-such-stream")}),
        ]:
            with self.subTest(op=op, body=body):
                self.assertRawError(self.raw(op, body), "ResourceNotFoundException", msg)
        e = self.assertClientError("ResourceNotFoundException",
                                   self.kinesis1.describe_stream_summary,
                                   StreamName="no-such-stream", message=msg)
        self.assertTrue(e.response["ResponseMetadata"]["RequestId"])
        self.assertIsInstance(e, self.kinesis1.exceptions.ResourceNotFoundException)

    def test_arn_of_another_account_is_not_found(self):
        name = self.create_stream()
        other = f"arn:aws:kinesis:us-east-1:999999999999:stream/{name}"
        r = self.raw("DescribeStreamSummary", {"StreamARN": other})
        self.assertRawError(r, "ResourceNotFoundException")

    def test_name_and_arn_of_different_streams_is_invalid_argument(self):
        a = self.create_stream()
        b = self.create_stream()
        r = self.raw("DescribeStreamSummary", {"StreamName": a, "StreamARN": stream_arn(b)})
        self.assertRawError(r, "InvalidArgumentException")

    def test_unknown_shard_is_resource_not_found(self):
        name = self.create_stream(shards=2)
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(5),
                                          "ShardIteratorType": "TRIM_HORIZON"})
        self.assertRawError(r, "ResourceNotFoundException",
                            f"Shard {shard_id(5)} in stream {name} under account {ACCOUNT} "
                            f"does not exist")

    def test_creating_an_existing_stream_is_resource_in_use(self):
        name = self.create_stream()
        msg = f"Stream {name} under account {ACCOUNT} already exists."
        self.assertRawError(self.raw("CreateStream", {"StreamName": name, "ShardCount": 2}),
                            "ResourceInUseException", msg)
        self.assertClientError("ResourceInUseException", self.kinesis1.create_stream,
                               StreamName=name, ShardCount=1, message=msg)
        # The first stream is untouched.
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["OpenShardCount"], 1)

    # -- InvalidArgument --------------------------------------------------

    def test_explicit_hash_key_of_2_pow_128_is_invalid(self):
        name = self.create_stream()
        msg = ("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
               f"Specified value was {TOO_BIG_HASH}")
        r = self.raw("PutRecord", {"StreamName": name, "Data": "eA==", "PartitionKey": "p",
                                   "ExplicitHashKey": TOO_BIG_HASH})
        self.assertRawError(r, "InvalidArgumentException", msg)
        self.assertClientError("InvalidArgumentException", self.kinesis1.put_records,
                               StreamName=name, Records=[{"Data": b"x", "PartitionKey": "p",
                                                          "ExplicitHashKey": TOO_BIG_HASH}],
                               message=msg)

    def test_garbage_iterator_is_invalid_argument(self):
        name = self.create_stream()
        msg = "Invalid ShardIterator."
        self.assertRawError(self.raw("GetRecords", {"ShardIterator": "not-an-iterator"}),
                            "InvalidArgumentException", msg)
        self.assertClientError("InvalidArgumentException", self.kinesis1.get_records,
                               ShardIterator="AAAAAAAAAAEnotreal==", message=msg)
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        mid = len(it) // 2
        forged = it[:mid] + ("A" if it[mid] != "A" else "B") + it[mid + 1:]
        self.assertRawError(self.raw("GetRecords", {"ShardIterator": forged}),
                            "InvalidArgumentException", msg)
        self.assertRawError(self.raw("GetRecords", {"ShardIterator": it[:-4]}),
                            "InvalidArgumentException", msg)

    def test_iterator_type_and_sequence_number_must_match(self):
        name = self.create_stream()
        seq = self.kinesis.put_record(StreamName=name, Data=b"x",
                                      PartitionKey="p")["SequenceNumber"]
        base = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
                "StartingSequenceNumber. Request specified ")
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                          "ShardIteratorType": "AT_SEQUENCE_NUMBER"})
        self.assertRawError(r, "InvalidArgumentException",
                            base + "AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                          "ShardIteratorType": "TRIM_HORIZON",
                                          "StartingSequenceNumber": seq})
        self.assertRawError(r, "InvalidArgumentException",
                            base + "TRIM_HORIZON and also a StartingSequenceNumber.")
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                          "ShardIteratorType": "AT_TIMESTAMP"})
        self.assertRawError(r, "InvalidArgumentException")

    def test_sequence_number_of_another_shard_is_invalid(self):
        name = self.create_stream(shards=2)
        put = self.kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="user-1")
        self.assertEqual(put["ShardId"], shard_id(1))
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                          "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                                          "StartingSequenceNumber": put["SequenceNumber"]})
        self.assertRawError(r, "InvalidArgumentException",
                            f"Invalid StartingSequenceNumber. It encodes {shard_id(1)}, while it "
                            f"was used in a call to a shard with {shard_id(0)}")

    def test_retention_below_24_hours_is_invalid(self):
        name = self.create_stream()
        r = self.raw("IncreaseStreamRetentionPeriod", {"StreamName": name,
                                                       "RetentionPeriodHours": 5})
        self.assertRawError(r, "InvalidArgumentException",
                            "Minimum allowed retention period is 24 hours. Requested retention "
                            "period (5 hours) is too short.")

    def test_list_shards_selector_conflicts(self):
        name = self.create_stream(shards=2)
        token = self.kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]
        self.assertRawError(self.raw("ListShards", {"StreamName": name, "NextToken": token}),
                            "InvalidArgumentException",
                            "NextToken and StreamName cannot be provided together.")
        self.assertRawError(self.raw("ListShards", {}), "InvalidArgumentException",
                            "Either NextToken or StreamName should be provided.")

    def test_put_records_over_10_mib_is_invalid(self):
        name = self.create_stream()
        one = base64.b64encode(b"z" * (1024 * 1024 - 10)).decode()
        r = self.raw("PutRecords", {"StreamName": name, "Records": [
            {"Data": one, "PartitionKey": f"p{i}"} for i in range(11)]})
        self.assertRawError(r, "InvalidArgumentException",
                            message_re=r"^Records size exceeds \d+ MB limit$")

    # -- ValidationException ----------------------------------------------

    def test_partition_key_of_257_characters(self):
        name = self.create_stream()
        key = "k" * 257
        msg = vmsg(f"Value '{key}' at 'partitionKey' failed to satisfy constraint: "
                   "Member must have length less than or equal to 256")
        r = self.raw("PutRecord", {"StreamName": name, "Data": "eA==", "PartitionKey": key})
        self.assertRawError(r, "ValidationException", msg)
        self.assertClientError("ValidationException", self.kinesis1.put_record,
                               StreamName=name, Data=b"x", PartitionKey=key, message=msg)
        r = self.raw("PutRecords", {"StreamName": name, "Records": [
            {"Data": "eA==", "PartitionKey": "ok"}, {"Data": "eA==", "PartitionKey": key}]})
        self.assertRawError(r, "ValidationException", vmsg(
            f"Value '{key}' at 'records.2.member.partitionKey' failed to satisfy constraint: "
            "Member must have length less than or equal to 256"))

    def test_empty_partition_key(self):
        name = self.create_stream()
        r = self.raw("PutRecord", {"StreamName": name, "Data": "eA==", "PartitionKey": ""})
        self.assertRawError(r, "ValidationException", vmsg(
            "Value '' at 'partitionKey' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"))

    def test_missing_required_member(self):
        name = self.create_stream()
        r = self.raw("PutRecord", {"StreamName": name, "Data": "eA=="})
        self.assertRawError(r, "ValidationException", vmsg(
            "Value null at 'partitionKey' failed to satisfy constraint: "
            "Member must not be null"))

    def test_stream_name_with_bad_characters(self):
        r = self.raw("CreateStream", {"StreamName": "bad name!", "ShardCount": 1})
        msg = vmsg("Value 'bad name!' at 'streamName' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        self.assertRawError(r, "ValidationException", msg)
        self.assertClientError("ValidationException", self.kinesis1.create_stream,
                               StreamName="bad name!", ShardCount=1, message=msg)
        self.assertNotIn("bad name!", self.kinesis.list_streams()["StreamNames"])

    def test_stream_name_of_129_characters(self):
        name = "n" * 129
        r = self.raw("CreateStream", {"StreamName": name, "ShardCount": 1})
        self.assertRawError(r, "ValidationException", vmsg(
            f"Value '{name}' at 'streamName' failed to satisfy constraint: "
            "Member must have length less than or equal to 128"))
        # 128 characters is fine.
        self.kinesis.create_stream(StreamName="n" * 128, ShardCount=1)
        self.wait_active("n" * 128)

    def test_two_violations_are_both_reported(self):
        key = "k" * 257
        r = self.raw("PutRecord", {"StreamName": "bad name!", "Data": "eA==",
                                   "PartitionKey": key})
        body = self.assertRawError(r, "ValidationException")
        self.assertTrue(body["message"].startswith("2 validation errors detected: "),
                        body["message"])
        items = body["message"][len("2 validation errors detected: "):].split("; ")
        self.assertEqual(sorted(items), sorted([
            f"Value '{key}' at 'partitionKey' failed to satisfy constraint: "
            "Member must have length less than or equal to 256",
            "Value 'bad name!' at 'streamName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"]))

    def test_empty_stream_name_breaks_both_pattern_and_length(self):
        body = self.assertRawError(self.raw("DescribeStreamSummary", {"StreamName": ""}),
                                   "ValidationException")
        self.assertTrue(body["message"].startswith("2 validation errors detected: "),
                        body["message"])
        items = body["message"][len("2 validation errors detected: "):].split("; ")
        self.assertEqual(sorted(items), sorted([
            "Value '' at 'streamName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            "Value '' at 'streamName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"]))

    def test_the_stream_name_is_validated_with_the_other_members(self):
        # One ValidationException lists every failure, the stream name's among them.
        for op, body, others in [
                ("AddTagsToStream", {"StreamName": "", "Tags": {}},
                 ["Value '{}' at 'tags' failed to satisfy constraint: "
                  "Member must have length greater than or equal to 1"]),
                ("DescribeStream", {"StreamName": "", "Limit": 0},
                 ["Value '0' at 'limit' failed to satisfy constraint: "
                  "Member must have value greater than or equal to 1"]),
                ("ListTagsForStream", {"StreamName": "", "Limit": 0},
                 ["Value '0' at 'limit' failed to satisfy constraint: "
                  "Member must have value greater than or equal to 1"]),
                ("IncreaseStreamRetentionPeriod", {"StreamName": "", "RetentionPeriodHours": 0},
                 None),
        ]:
            with self.subTest(op=op):
                body_out = self.assertRawError(self.raw(op, body), "ValidationException")
                message = body_out["message"]
                for item in ("Value '' at 'streamName' failed to satisfy constraint: Member must "
                             "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                             "Value '' at 'streamName' failed to satisfy constraint: Member must "
                             "have length greater than or equal to 1", *(others or [])):
                    self.assertIn(item, message)

    def test_tag_lengths_are_checked_on_the_whole_map_or_list(self):
        name = self.create_stream()
        long_key = "k" * 129
        self.assertRawError(
            self.raw("AddTagsToStream", {"StreamName": name, "Tags": {long_key: "v"}}),
            "ValidationException", vmsg(
                f"Value '{{{long_key}=v}}' at 'tags' failed to satisfy constraint: Map keys "
                "must satisfy constraint: [Member must have length less than or equal to 128, "
                "Member must have length greater than or equal to 1]"))
        long_value = "v" * 257
        self.assertRawError(
            self.raw("AddTagsToStream", {"StreamName": name, "Tags": {"k": long_value}}),
            "ValidationException", vmsg(
                f"Value '{{k={long_value}}}' at 'tags' failed to satisfy constraint: Map value "
                "must satisfy constraint: [Member must have length less than or equal to 256, "
                "Member must have length greater than or equal to 0]"))
        self.assertRawError(
            self.raw("RemoveTagsFromStream", {"StreamName": name,
                                              "TagKeys": ["a", long_key, "b"]}),
            "ValidationException", vmsg(
                f"Value '[a, {long_key}, b]' at 'tagKeys' failed to satisfy constraint: Member "
                "must satisfy constraint: [Member must have length less than or equal to 128, "
                "Member must have length greater than or equal to 1]"))
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"], [])

    def test_tag_characters(self):
        name = self.create_stream()
        invalid = ("Some tags contain invalid characters. Valid characters: Unicode letters, "
                   "digits, white space, _ . / = + - % @.")
        for text in ("abc;def", "abc\tdef", "abc\ndef", "abc,def"):
            with self.subTest(text=text):
                self.assertRawError(self.raw("AddTagsToStream", {"StreamName": name,
                                                                 "Tags": {text: "1"}}),
                                    "InvalidArgumentException", invalid)
                self.assertRawError(self.raw("AddTagsToStream", {"StreamName": name,
                                                                 "Tags": {"a": text}}),
                                    "InvalidArgumentException", invalid)
                self.assertRawError(self.raw("RemoveTagsFromStream", {"StreamName": name,
                                                                      "TagKeys": [text]}),
                                    "InvalidArgumentException", invalid)
        allowed = ("Unicode letters, white-spaces, '_',',','/','=','+','-','@'.")
        self.assertRawError(
            self.raw("AddTagsToStream", {"StreamName": name, "Tags": {"a%b": "1"}}),
            "InvalidArgumentException",
            f"Failed to add tags to stream {name} under account {ACCOUNT} because some tags "
            f"contained illegal characters. The allowed characters are {allowed}")
        self.assertRawError(
            self.raw("RemoveTagsFromStream", {"StreamName": name, "TagKeys": ["a%b"]}),
            "InvalidArgumentException",
            f"Failed to remove tags from stream {name} under account {ACCOUNT} because some "
            f"tags contained illegal characters. The allowed characters are {allowed}")
        self.kinesis.add_tags_to_stream(StreamName=name,
                                        Tags={"Team name": "a_b./=+-@:", "ÜBER": "größe"})
        self.assertEqual(len(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"]), 2)

    def test_explicit_hash_key_that_is_not_a_number(self):
        name = self.create_stream()
        r = self.raw("PutRecord", {"StreamName": name, "Data": "eA==", "PartitionKey": "p",
                                   "ExplicitHashKey": "12ab"})
        self.assertRawError(r, "ValidationException", vmsg(
            "Value '12ab' at 'explicitHashKey' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"))

    def test_get_records_limit_10001(self):
        name = self.create_stream()
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        msg = vmsg("Value '10001' at 'limit' failed to satisfy constraint: "
                   "Member must have value less than or equal to 10000")
        self.assertRawError(self.raw("GetRecords", {"ShardIterator": it, "Limit": 10001}),
                            "ValidationException", msg)
        self.assertClientError("ValidationException", self.kinesis1.get_records,
                               ShardIterator=it, Limit=10001, message=msg)
        self.assertRawError(self.raw("GetRecords", {"ShardIterator": it, "Limit": 0}),
                            "ValidationException", vmsg(
                                "Value '0' at 'limit' failed to satisfy constraint: "
                                "Member must have value greater than or equal to 1"))
        self.assertEqual(self.kinesis.get_records(ShardIterator=it, Limit=10000)["Records"], [])

    def test_list_limits_above_10000(self):
        self.assertRawError(self.raw("ListStreams", {"Limit": 10001}), "ValidationException",
                            vmsg("Value '10001' at 'limit' failed to satisfy constraint: "
                                 "Member must have value less than or equal to 10000"))
        name = self.create_stream()
        self.assertRawError(self.raw("DescribeStream", {"StreamName": name, "Limit": 10001}),
                            "ValidationException",
                            vmsg("Value '10001' at 'limit' failed to satisfy constraint: "
                                 "Member must have value less than or equal to 10000"))
        self.assertRawError(self.raw("ListShards", {"StreamName": name, "MaxResults": 10001}),
                            "ValidationException",
                            vmsg("Value '10001' at 'maxResults' failed to satisfy constraint: "
                                 "Member must have value less than or equal to 10000"))

    def test_put_records_with_501_entries(self):
        name = self.create_stream()
        r = self.raw("PutRecords", {"StreamName": name, "Records": [
            {"Data": "eA==", "PartitionKey": "p"} for _ in range(501)]})
        body = self.assertRawError(r, "ValidationException")
        self.assertRegex(body["message"],
                         r"^1 validation error detected: Value '.*' at 'records' failed to "
                         r"satisfy constraint: Member must have length less than or equal to "
                         r"500$")
        self.assertClientError("ValidationException", self.kinesis1.put_records,
                               StreamName=name,
                               Records=[{"Data": b"x", "PartitionKey": "p"}] * 501)
        self.assertEqual(self.kinesis.get_records(ShardIterator=self.kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"])["Records"], [], "nothing of a rejected call is stored")

    def test_empty_put_records(self):
        name = self.create_stream()
        r = self.raw("PutRecords", {"StreamName": name, "Records": []})
        body = self.assertRawError(r, "ValidationException")
        self.assertRegex(body["message"], r"at 'records' failed to satisfy constraint: Member "
                                          r"must have length greater than or equal to 1$")

    def test_record_over_1_mib(self):
        name = self.create_stream()
        n = 1024 * 1024 + 1
        data = base64.b64encode(b"d" * n).decode()
        r = self.raw("PutRecord", {"StreamName": name, "Data": data, "PartitionKey": "p"})
        body = self.assertRawError(r, "ValidationException")
        self.assertRegex(body["message"],
                         r"^1 validation error detected: Value 'java\.nio\.HeapByteBuffer\[pos=0 "
                         rf"lim={n} cap={n}\]' at 'data' failed to satisfy constraint: Member "
                         r"must have length less than or equal to \d+$")
        r = self.raw("PutRecords", {"StreamName": name, "Records": [
            {"Data": "eA==", "PartitionKey": "p"}, {"Data": data, "PartitionKey": "p"}]})
        body = self.assertRawError(r, "ValidationException")
        self.assertRegex(body["message"], r"at 'records\.2\.member\.data' failed to satisfy "
                                          r"constraint: Member must have length less than or "
                                          r"equal to \d+$")
        self.assertClientError("ValidationException", self.kinesis1.put_record, StreamName=name,
                               Data=b"d" * n, PartitionKey="p")

    def test_enum_and_range_violations(self):
        name = self.create_stream()
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                          "ShardIteratorType": "SOMETIMES"})
        body = self.assertRawError(r, "ValidationException")
        self.assertRegex(body["message"],
                         r"^1 validation error detected: Value 'SOMETIMES' at "
                         r"'shardIteratorType' failed to satisfy constraint: Member must "
                         r"satisfy enum value set: \[.*\]$")
        for v in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST",
                  "AT_TIMESTAMP"):
            self.assertIn(v, body["message"])
        self.assertRawError(self.raw("CreateStream", {"StreamName": self.unique_name(),
                                                      "ShardCount": 0}),
                            "ValidationException", vmsg(
                                "Value '0' at 'shardCount' failed to satisfy constraint: "
                                "Member must have value greater than or equal to 1"))

    # -- LimitExceeded ----------------------------------------------------

    def test_shard_count_above_the_account_limit(self):
        limits = self.kinesis.describe_limits()
        name = self.unique_name()
        r = self.raw("CreateStream", {"StreamName": name,
                                      "ShardCount": limits["ShardLimit"] + 1})
        self.assertRawError(r, "LimitExceededException")
        self.assertClientError("ResourceNotFoundException", self.kinesis1.describe_stream_summary,
                               StreamName=name)
        self.assertEqual(self.kinesis.describe_limits()["OpenShardCount"],
                         limits["OpenShardCount"])

    # -- SerializationException -------------------------------------------

    def test_malformed_json(self):
        for raw_body in (b'{"StreamName": ', b"{not json}", b'{"StreamName": "a",}',
                         b"\xff\xfe{}"):
            with self.subTest(body=raw_body):
                self.assertRawError(self.raw("DescribeStream", raw_body=raw_body),
                                    "SerializationException")

    def test_body_that_is_not_an_object(self):
        for raw_body in (b"[]", b'"ListStreams"', b"42", b"null", b""):
            with self.subTest(body=raw_body):
                self.assertRawError(self.raw("ListStreams", raw_body=raw_body),
                                    "SerializationException")

    def test_wrong_json_types(self):
        name = self.create_stream()
        for op, body in [
                ("CreateStream", {"StreamName": self.unique_name(), "ShardCount": "1"}),
                ("CreateStream", {"StreamName": 5, "ShardCount": 1}),
                ("PutRecords", {"StreamName": name, "Records": {"Data": "eA=="}}),
                ("GetRecords", {"ShardIterator": ["x"]}),
                ("ListStreams", {"Limit": True}),
                ("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                      "ShardIteratorType": "AT_TIMESTAMP",
                                      "Timestamp": "2024-01-01T00:00:00Z"}),
        ]:
            with self.subTest(op=op, body=body):
                self.assertRawError(self.raw(op, body), "SerializationException")

    def test_bad_base64_data(self):
        name = self.create_stream()
        for data, problem in (
                ("%%%%", "Invalid Base64 character: '%'"),
                ("eA=", "Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
                ("e", "Base64 encoded length is expected a multiple of 4 bytes but found: 1"),
                ("eB==", "Invalid last non-pad Base64 character dectected")):
            with self.subTest(data=data):
                r = self.raw("PutRecord", {"StreamName": name, "Data": data,
                                           "PartitionKey": "p"})
                self.assertRawError(r, "SerializationException",
                                    message=f"'{data}' can not be converted to a Blob: {problem}")
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual(self.kinesis.get_records(ShardIterator=it)["Records"], [])

    # -- protocol errors --------------------------------------------------

    def test_unknown_operation(self):
        for target in (TARGET_PREFIX + "NoSuchOperation", "DynamoDB_20120810.ListTables",
                       "Kinesis_20131202", TARGET_PREFIX + "listStreams", ""):
            with self.subTest(target=target):
                self.assertRawError(self.raw(None, {}, target=target),
                                    "UnknownOperationException")
        r = self.raw("ListStreams", {}, drop_headers=("X-Amz-Target",))
        self.assertRawError(r, "UnknownOperationException")

    def test_missing_authorization(self):
        r = self.raw("ListStreams", {}, sign=False)
        self.assertRawError(r, "MissingAuthenticationTokenException",
                            "Missing Authentication Token")
        r = self.raw("ListStreams", {}, drop_headers=("Authorization",))
        self.assertRawError(r, "MissingAuthenticationTokenException",
                            "Missing Authentication Token")

    def test_incomplete_signature(self):
        header = "AWS4-HMAC-SHA256 garbage"
        r = self.raw("ListStreams", {}, headers={"Authorization": header})
        self.assertRawError(
            r, "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter. Authorization header "
            "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
            f"parameter. Authorization={header}")
        header = "AWS4- Signature=b, Credential=a"
        r = self.raw("ListStreams", {}, headers={"Authorization": header})
        self.assertRawError(
            r, "IncompleteSignatureException",
            f"Authorization header requires 'SignedHeaders' parameter. Authorization={header}")

    def test_request_checks_come_in_the_order_aws_makes_them(self):
        # The body first, then the target, then the credentials, then the operation.
        self.assertRawError(self.raw(None, raw_body=b"", target=TARGET_PREFIX + "Nope",
                                     sign=False), "UnknownOperationException")
        self.assertRawError(self.raw(None, raw_body=b"", target=TARGET_PREFIX + "ListStreams",
                                     sign=False), "SerializationException")
        self.assertRawError(self.raw(None, raw_body=b"{", target=TARGET_PREFIX + "Nope",
                                     sign=False), "SerializationException")
        self.assertRawError(self.raw(None, {}, target=TARGET_PREFIX + "Nope", sign=False),
                            "UnknownOperationException")
        self.assertRawError(self.raw("DescribeStream", {"StreamName": ""}, sign=False),
                            "MissingAuthenticationTokenException")

    def test_oversized_body_gets_a_4xx_and_the_connection_is_not_hung(self):
        size = 20 * 1024 * 1024
        target = TARGET_PREFIX + "PutRecords"
        head = {"Content-Type": JSON_CT, "X-Amz-Target": target, "Host": self.riffled.host,
                "Content-Length": str(size)}
        h = auth_headers(self.riffled.host, target, b"{}")
        head["Authorization"] = h["Authorization"]
        head["X-Amz-Date"] = h["X-Amz-Date"]
        request = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
        sock = socket.create_connection(("127.0.0.1", self.riffled.port), timeout=30)
        sent_error = []

        def send_body():
            try:
                sock.sendall(request.encode() + b"\r\n")
                chunk = b'{"StreamName":"x","Records":[' + b" " * (1024 * 1024)
                left = size
                while left > 0:
                    piece = chunk[:min(len(chunk), left)]
                    sock.sendall(piece)
                    left -= len(piece)
            except OSError as e:  # the server may stop reading early
                sent_error.append(e)

        t = threading.Thread(target=send_body, daemon=True)
        started = time.monotonic()
        t.start()
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                piece = sock.recv(65536)
                if not piece:
                    break
                data += piece
        except socket.timeout:
            self.fail("no answer within 30 s to a 20 MiB request body")
        except ConnectionResetError:
            self.fail("connection reset before any response to a 20 MiB body")
        finally:
            t.join(timeout=30)
            sock.close()
        self.assertLess(time.monotonic() - started, 30)
        status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ")
        self.assertEqual(parts[0], "HTTP/1.1", data[:300])
        self.assertTrue(400 <= int(parts[1]) < 500, f"status line: {status_line!r}")
        # The daemon keeps serving.
        self.assertEqual(self.raw("ListStreams", {}).status, 200)

    def test_16_mib_of_json_is_not_too_big(self):
        # Whitespace padding keeps this a valid request of ~15 MiB.
        name = self.create_stream()
        body = (b'{"StreamName": "' + name.encode() + b'", "PartitionKey": "p", "Data": "eA=="'
                + b" " * (15 * 1024 * 1024) + b"}")
        r = self.raw("PutRecord", raw_body=body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ShardId"], shard_id(0))

    def test_unimplemented_operations_answer_with_a_clear_error(self):
        name = self.create_stream(shards=2)
        arn = stream_arn(name)
        consumer_arn = arn + "/consumer/c1:1700000000"
        cases = [
            ("SplitShard", {"StreamName": name, "ShardToSplit": shard_id(0),
                            "NewStartingHashKey": "1000"}),
            ("MergeShards", {"StreamName": name, "ShardToMerge": shard_id(0),
                             "AdjacentShardToMerge": shard_id(1)}),
            ("UpdateShardCount", {"StreamName": name, "TargetShardCount": 4,
                                  "ScalingType": "UNIFORM_SCALING"}),
            ("RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "c1"}),
            ("ListStreamConsumers", {"StreamARN": arn}),
            ("DescribeStreamConsumer", {"ConsumerARN": consumer_arn}),
            ("DeregisterStreamConsumer", {"ConsumerARN": consumer_arn}),
            ("SubscribeToShard", {"ConsumerARN": consumer_arn, "ShardId": shard_id(0),
                                  "StartingPosition": {"Type": "LATEST"}}),
        ]
        for op, body in cases:
            with self.subTest(op=op):
                r = self.raw(op, body)
                if r.status == 200:
                    continue  # implemented since; other suites check the results
                self.assertRawError(r, self.raw_code(r))
                self.assertTrue(json.loads(r.body)["message"], r)
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")

    def raw_code(self, r):
        try:
            code = json.loads(r.body).get("__type")
        except ValueError:
            self.fail(f"error body is not JSON: {r}")
        self.assertIsInstance(code, str, r)
        self.assertRegex(code, r"^[A-Za-z]+$", r)
        return code

    # -- things that must NOT be errors -----------------------------------

    def test_content_type_variants_are_accepted(self):
        for ct in ("application/x-amz-json-1.0", "application/json"):
            with self.subTest(ct=ct):
                r = self.raw("ListStreams", {}, headers={"Content-Type": ct})
                self.assertEqual(r.status, 200, r)
                self.assertIn("StreamNames", r.json())

    def test_unknown_members_and_nulls_are_ignored(self):
        name = self.create_stream()
        r = self.raw("DescribeStreamSummary", {"StreamName": name, "StreamFutureField": 7,
                                               "Nested": {"x": [1, 2]}})
        self.assertEqual(r.status, 200, r)
        r = self.raw("ListStreams", {"Limit": None, "ExclusiveStartStreamName": None})
        self.assertEqual(r.status, 200, r)
        r = self.raw("PutRecord", {"StreamName": name, "Data": "eA==", "PartitionKey": "p",
                                   "ExplicitHashKey": None, "SequenceNumberForOrdering": None})
        self.assertEqual(r.status, 200, r)

    def test_any_request_path_is_served(self):
        r = self.riffled.connection()
        body = b"{}"
        h = auth_headers(self.riffled.host, TARGET_PREFIX + "ListStreams", body)
        r.request("POST", "/some/path?x=1", body=body, headers=h)
        resp = r.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertIn("StreamNames", json.loads(resp.read()))
        r.close()

    def test_success_headers(self):
        name = self.unique_name()
        r = self.raw("CreateStream", {"StreamName": name, "ShardCount": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type"), JSON_CT)
        self.assertIn(r.body, (b"", b"{}"), "CreateStream has no output")
        ids = set()
        for _ in range(3):
            r = self.raw("DescribeStreamSummary", {"StreamName": name})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.headers.get("content-type"), JSON_CT)
            self.assertEqual(int(r.headers["content-length"]), len(r.body))
            ids.add(r.headers.get("x-amzn-requestid"))
        self.assertNotIn(None, ids)
        self.assertEqual(len(ids), 3, "every response has its own request id")

    def test_timestamps_in_decimal_and_exponent_form(self):
        name = self.create_stream()
        self.kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p")
        past = time.time() - 3600
        for literal in ("%.3f" % past, "%d" % past, "%.11E" % past):
            with self.subTest(timestamp=literal):
                body = ('{"StreamName": "%s", "ShardId": "%s", "ShardIteratorType": '
                        '"AT_TIMESTAMP", "Timestamp": %s}' % (name, shard_id(0), literal))
                r = self.raw("GetShardIterator", raw_body=body)
                self.assertEqual(r.status, 200, r)
                it = r.json()["ShardIterator"]
                self.assertEqual(len(self.kinesis.get_records(ShardIterator=it)["Records"]), 1)

    def test_integers_beyond_32_bits_saturate(self):
        r = self.raw("CreateStream", {"StreamName": self.unique_name(),
                                      "ShardCount": 100000000000})
        self.assertRawError(r, "ValidationException", vmsg(
            "Value '2147483647' at 'shardCount' failed to satisfy constraint: "
            "Member must have value less than or equal to 100000"))

    def test_at_timestamp_in_the_future_is_invalid(self):
        name = self.create_stream()
        future = time.time() + 60
        r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": shard_id(0),
                                          "ShardIteratorType": "AT_TIMESTAMP",
                                          "Timestamp": future})
        self.assertRawError(r, "InvalidArgumentException", message_re=(
            r"^The timestampInMillis parameter cannot be greater than the "
            r"currentTimestampInMillis\. timestampInMillis: \d+, "
            r"currentTimestampInMillis: \d+$"))
        # The present is fine.
        self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                        ShardIteratorType="AT_TIMESTAMP",
                                        Timestamp=time.time() - 1)

    def test_shard_id_short_forms_are_resolved(self):
        name = self.create_stream(shards=2)
        for form in ("shardId-1", "shard-1", "1", "a-00000001", "-1"):
            with self.subTest(form=form):
                r = self.raw("GetShardIterator", {"StreamName": name, "ShardId": form,
                                                  "ShardIteratorType": "LATEST"})
                self.assertEqual(r.status, 200, r)

    def test_shard_resolution_comes_before_the_stream(self):
        # As AWS does: an id that names no shard number is reported first; a missing stream
        # reads as its shard not existing, under the shard id in its full form.
        name = self.create_stream(shards=2)
        for stream in ("no-such-stream", name):
            for shard in ("2147483648", "shardId-002147483648", "ABKLFD8", "2.14E4"):
                with self.subTest(stream=stream, shard=shard):
                    self.assertRawError(
                        self.raw("GetShardIterator", {"StreamName": stream, "ShardId": shard,
                                                      "ShardIteratorType": "LATEST"}),
                        "ResourceNotFoundException",
                        f"Could not find shard {shard} in stream {stream} under account "
                        f"{ACCOUNT}.")
                    self.assertRawError(
                        self.raw("SplitShard", {"StreamName": stream, "ShardToSplit": shard,
                                                "NewStartingHashKey": "1"}),
                        "ResourceNotFoundException",
                        f"Could not find shard {shard} in stream {stream} under account "
                        f"{ACCOUNT}.")
        self.assertRawError(
            self.raw("GetShardIterator", {"StreamName": "no-such-stream",
                                          "ShardId": "x-2147483647",
                                          "ShardIteratorType": "LATEST"}),
            "ResourceNotFoundException",
            f"Shard shardId-002147483647 in stream no-such-stream under account {ACCOUNT} "
            "does not exist")
        self.assertRawError(
            self.raw("GetShardIterator", {"StreamName": name, "ShardId": "shardId-5",
                                          "ShardIteratorType": "LATEST"}),
            "ResourceNotFoundException",
            f"Shard shardId-000000000005 in stream {name} under account {ACCOUNT} "
            "does not exist")
        self.assertRawError(
            self.raw("MergeShards", {"StreamName": name, "ShardToMerge": "7",
                                     "AdjacentShardToMerge": "shardId-1"}),
            "ResourceNotFoundException",
            f"Could not find shard shardId-000000000007 in stream {name} under account "
            f"{ACCOUNT}.")


class ExpiredIteratorTest(RiffledTestCase):
    daemon_scope = "class"
    riffled_args = ("--iterator-ttl-ms", "1000", "--shard-quotas=off")

    def test_expired_iterator_on_the_wire(self):
        name = self.create_stream()
        it = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                             ShardIteratorType="LATEST")["ShardIterator"]

        def expired():
            r = self.riffled.raw("GetRecords", {"ShardIterator": it})
            return r if r.status != 200 else None
        r = wait_for(expired, 15, interval=0.1, what="the iterator to expire")
        body = self.assertRawError(r, "ExpiredIteratorException")
        self.assertTrue(body["message"].startswith("Iterator expired. "), body)
        self.assertClientError("ExpiredIteratorException", self.kinesis1.get_records,
                               ShardIterator=it)


if __name__ == "__main__":
    unittest.main()
