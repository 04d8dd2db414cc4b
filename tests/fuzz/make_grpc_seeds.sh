#!/usr/bin/env bash
# Writes the seeds of grpc_request_fuzz: for each call, its selector byte (the call's index in
# grpc_request_fuzz.cc's Calls()) followed by a request message in protobuf wire format, encoded
# by protoc from the text format below. Run from the repository root after changing either list.
set -euo pipefail
out=tests/fuzz/corpus/grpc_request_fuzz
arn=arn:aws:kinesis:us-east-1:000000000000:stream/s
consumer=$arn/consumer/c:1700000000
group='group { stream { name: "s" } group_name: "g" }'
mkdir -p "$out"
while IFS='|' read -r index call message text; do
  { printf "\\x$(printf %02x "$index")"
    protoc --proto_path=proto --encode="riffle.v1.$message" proto/riffle/v1/riffle.proto <<<"$text"
  } >"$out/$(printf %02d "$index")-$call"
done <<EOT
0|CreateStream|CreateStreamRequest|stream_name: "s" shard_count: 2 tags { key: "k" value: "v" }
0|CreateStreamOnDemand|CreateStreamRequest|stream_name: "od" mode: ON_DEMAND warm_throughput_mibps: 10
1|DeleteStream|DeleteStreamRequest|stream { name: "s" } enforce_consumer_deletion: true
2|DescribeStream|DescribeStreamRequest|stream { arn: "$arn" }
3|DescribeStreamSummary|DescribeStreamSummaryRequest|stream { name: "s" }
4|ListStreams|ListStreamsRequest|
5|ListShards|ListShardsRequest|stream { name: "s" } max_results: 1 shard_filter { type: "AFTER_SHARD_ID" shard_id: "shardId-000000000000" }
6|PutRecord|PutRecordRequest|stream { name: "s" } data: "hello" partition_key: "pk" explicit_hash_key: "1"
7|PutRecords|PutRecordsRequest|stream { name: "s" } records { data: "a" partition_key: "p1" } records { data: "b" partition_key: "p2" }
8|GetShardIterator|GetShardIteratorRequest|stream { name: "s" } shard_id: "shardId-000000000000" type: AT_SEQUENCE_NUMBER starting_sequence_number: "49590338271490256608559692538361571095921575989136588898"
9|GetRecords|GetRecordsRequest|shard_iterator: "AAAAAAAAAAE=" limit: 10 stream_arn: "$arn"
10|IncreaseStreamRetentionPeriod|RetentionRequest|stream { name: "s" } retention_period_hours: 48
11|DecreaseStreamRetentionPeriod|RetentionRequest|stream { name: "s" } retention_period_hours: 24
12|AddTagsToStream|AddTagsRequest|stream { name: "s" } tags { key: "a" value: "b" }
13|RemoveTagsFromStream|RemoveTagsRequest|stream { name: "s" } tag_keys: "a"
14|ListTagsForStream|ListTagsRequest|stream { name: "s" } exclusive_start_tag_key: "a" limit: 1
15|EnableEnhancedMonitoring|EnhancedMonitoringRequest|stream { name: "s" } shard_level_metrics: "ALL"
16|DisableEnhancedMonitoring|EnhancedMonitoringRequest|stream { name: "s" } shard_level_metrics: "IncomingBytes"
17|StartStreamEncryption|EncryptionRequest|stream { name: "s" } encryption_type: "KMS" key_id: "alias/aws/kinesis"
18|StopStreamEncryption|EncryptionRequest|stream { name: "s" } encryption_type: "KMS" key_id: "alias/aws/kinesis"
19|UpdateStreamMode|UpdateStreamModeRequest|stream_arn: "$arn" mode: ON_DEMAND
20|UpdateMaxRecordSize|UpdateMaxRecordSizeRequest|stream_arn: "$arn" max_record_size_kib: 2048
21|UpdateStreamWarmThroughput|UpdateStreamWarmThroughputRequest|stream { name: "od" } warm_throughput_mibps: 20
22|UpdateAccountSettings|UpdateAccountSettingsRequest|minimum_throughput_billing_commitment: "ENABLED"
23|PutResourcePolicy|PutResourcePolicyRequest|resource_arn: "$arn" policy: "{\"Version\":\"2012-10-17\"}"
24|GetResourcePolicy|GetResourcePolicyRequest|resource_arn: "$arn"
25|DeleteResourcePolicy|DeleteResourcePolicyRequest|resource_arn: "$arn"
26|SplitShard|SplitShardRequest|stream { name: "s" } shard_to_split: "shardId-000000000000" new_starting_hash_key: "85070591730234615865843651857942052864"
27|MergeShards|MergeShardsRequest|stream { name: "s" } shard_to_merge: "shardId-000000000000" adjacent_shard_to_merge: "shardId-000000000001"
28|UpdateShardCount|UpdateShardCountRequest|stream { name: "s" } target_shard_count: 4 scaling_type: UNIFORM_SCALING
29|RegisterStreamConsumer|RegisterStreamConsumerRequest|stream_arn: "$arn" consumer_name: "c"
30|DeregisterStreamConsumer|DeregisterStreamConsumerRequest|consumer { stream_arn: "$arn" consumer_name: "c" }
31|DescribeStreamConsumer|DescribeStreamConsumerRequest|consumer { consumer_arn: "$consumer" }
32|ListStreamConsumers|ListStreamConsumersRequest|stream_arn: "$arn" max_results: 5
33|CreateConsumerGroup|CreateConsumerGroupRequest|$group starting_position: AT_TIMESTAMP timestamp_ms: 1700000000000
34|DeleteConsumerGroup|DeleteConsumerGroupRequest|$group
35|DescribeConsumerGroup|DescribeConsumerGroupRequest|$group
36|LeaseShard|LeaseShardRequest|$group shard_id: "shardId-000000000000" owner: "w1" lease_duration_ms: 10000
37|ReleaseShardLease|ReleaseShardLeaseRequest|$group shard_id: "shardId-000000000000" lease_counter: 1
38|Checkpoint|CheckpointRequest|$group shard_id: "shardId-000000000000" lease_counter: 1 sequence_number: "1"
39|SubscribeToShard|SubscribeToShardRequest|consumer_arn: "$consumer" shard_id: "shardId-000000000000" starting_position { type: TRIM_HORIZON }
EOT
