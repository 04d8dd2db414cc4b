// The core Kinesis flows with the JavaScript SDK v3 against a running riffled.
// test_js_sdk.py starts the daemon and passes its endpoint in KINESIS_ENDPOINT.
//
// @aws-sdk/client-kinesis talks HTTP/2 by default (h2c with prior knowledge
// on an http:// endpoint), so the flows run twice: with the SDK's default
// handler, as users get it, and with its HTTP/1.1 handler.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  DeleteStreamCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  SplitShardCommand,
  ListShardsCommand,
  PutResourcePolicyCommand,
  GetResourcePolicyCommand,
  UpdateAccountSettingsCommand,
  UpdateStreamWarmThroughputCommand,
  ResourceNotFoundException,
  ResourceInUseException,
} = require('@aws-sdk/client-kinesis');

const { NodeHttpHandler } = require('@smithy/node-http-handler');

const endpoint = process.env.KINESIS_ENDPOINT;
assert.ok(endpoint, 'KINESIS_ENDPOINT is not set');

function makeClient(requestHandler, maxAttempts = 1) {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDJSTEST', secretAccessKey: 'js-test-secret' },
    maxAttempts,
    ...(requestHandler ? { requestHandler } : {}),
  });
}

const ranges2 = [[0n, 2n ** 127n - 1n], [2n ** 127n, 2n ** 128n - 1n]];

function md5Hash(key) {
  return BigInt('0x' + crypto.createHash('md5').update(key, 'utf8').digest('hex'));
}

function coreFlows(label, client) {
  const tag = label.replace(/[^a-z0-9]/gi, '').toLowerCase();
  const stream = `js-sdk-${tag}-${crypto.randomBytes(4).toString('hex')}`;

  async function waitActive(name) {
    const deadline = Date.now() + 10000;
    for (;;) {
      const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      if (out.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return out;
      if (Date.now() > deadline) throw new Error(`stream ${name} never became ACTIVE`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function readShard(shardId) {
    const it = await client.send(new GetShardIteratorCommand({
      StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON',
    }));
    const out = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
    assert.ok(out.NextShardIterator, 'open shards always give a NextShardIterator');
    return out;
  }

  test(`core flows with @aws-sdk/client-kinesis over ${label}`, async (t) => {
    await t.test('create a 2-shard stream', async () => {
      const out = await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      const summary = await waitActive(stream);
      assert.equal(summary.StreamDescriptionSummary.OpenShardCount, 2);
      assert.equal(summary.StreamDescriptionSummary.StreamARN,
        `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`);
    });

    await t.test('creating it again is ResourceInUseException', async () => {
      await assert.rejects(
        client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 })),
        (err) => {
          assert.ok(err instanceof ResourceInUseException, `got ${err.name}`);
          assert.equal(err.name, 'ResourceInUseException');
          assert.equal(err.$metadata.httpStatusCode, 400);
          return true;
        });
    });

    await t.test('list and describe', async () => {
      const list = await client.send(new ListStreamsCommand({ Limit: 10000 }));
      assert.ok(list.StreamNames.includes(stream));
      const desc = await client.send(new DescribeStreamCommand({ StreamName: stream }));
      const d = desc.StreamDescription;
      assert.equal(d.StreamStatus, 'ACTIVE');
      assert.equal(d.HasMoreShards, false);
      assert.deepEqual(d.Shards.map((s) => s.ShardId),
        ['shardId-000000000000', 'shardId-000000000001']);
      assert.deepEqual(d.Shards.map((s) => [s.HashKeyRange.StartingHashKey,
        s.HashKeyRange.EndingHashKey]), ranges2.map(([a, b]) => [a.toString(), b.toString()]));
      assert.ok(d.StreamCreationTimestamp instanceof Date);
    });

    const written = { 'shardId-000000000000': [], 'shardId-000000000001': [] };

    await t.test('putRecord routes by the MD5 of the partition key', async () => {
      for (const key of ['user-1', 'a', 'pk', 'partition-0', '\u00e9', 'key-7', 'key-8']) {
        const data = new TextEncoder().encode(`value of ${key}`);
        const out = await client.send(new PutRecordCommand({
          StreamName: stream, PartitionKey: key, Data: data,
        }));
        const h = md5Hash(key);
        const want = h >= ranges2[1][0] ? 'shardId-000000000001' : 'shardId-000000000000';
        assert.equal(out.ShardId, want, `partition key ${key}`);
        assert.match(out.SequenceNumber, /^1\d{40}$/);
        written[out.ShardId].push({ key, data, seq: out.SequenceNumber });
      }
    });

    await t.test('putRecords answers every entry in order', async () => {
      const entries = Array.from({ length: 20 }, (_, i) => ({
        PartitionKey: `batch-${i}`, Data: Uint8Array.from([i, 0, 255, i]),
      }));
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
      assert.equal(out.FailedRecordCount, 0);
      assert.equal(out.Records.length, 20);
      out.Records.forEach((r, i) => {
        assert.equal(r.ErrorCode, undefined);
        written[r.ShardId].push({ key: entries[i].PartitionKey, data: entries[i].Data,
          seq: r.SequenceNumber });
      });
    });

    await t.test('getShardIterator + getRecords return Uint8Array data in order', async () => {
      for (const shardId of Object.keys(written)) {
        const out = await readShard(shardId);
        assert.equal(out.Records.length, written[shardId].length);
        out.Records.forEach((r, i) => {
          assert.ok(r.Data instanceof Uint8Array, 'Data is a Uint8Array');
          assert.deepEqual(Array.from(r.Data), Array.from(written[shardId][i].data));
          assert.equal(r.PartitionKey, written[shardId][i].key);
          assert.equal(r.SequenceNumber, written[shardId][i].seq);
          assert.ok(r.ApproximateArrivalTimestamp instanceof Date);
          assert.ok(Math.abs(Date.now() - r.ApproximateArrivalTimestamp.getTime()) < 60000);
        });
        const seqs = out.Records.map((r) => BigInt(r.SequenceNumber));
        for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1]);
        assert.equal(typeof out.MillisBehindLatest, 'number');
      }
    });

    await t.test('an unknown stream is ResourceNotFoundException', async () => {
      await assert.rejects(
        client.send(new DescribeStreamCommand({ StreamName: stream + '-missing' })),
        (err) => {
          assert.ok(err instanceof ResourceNotFoundException, `got ${err.name}`);
          assert.equal(err.name, 'ResourceNotFoundException');
          assert.equal(err.message,
            `Stream ${stream}-missing under account 000000000000 not found.`);
          assert.equal(err.$metadata.httpStatusCode, 400);
          assert.ok(err.$metadata.requestId, 'x-amzn-RequestId reaches the SDK');
          return true;
        });
    });

    await t.test('delete the stream', async () => {
      const out = await client.send(new DeleteStreamCommand({ StreamName: stream }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      const deadline = Date.now() + 15000;
      for (;;) {
        try {
          await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
        } catch (err) {
          assert.equal(err.name, 'ResourceNotFoundException');
          break;
        }
        if (Date.now() > deadline) throw new Error('stream still exists 15 s after delete');
        await new Promise((r) => setTimeout(r, 50));
      }
    });
  });
}

// The third client retries as the SDK does by default (3 attempts): it rides out riffled's
// call rates (CreateStream 5/s per account) should the tests before it have used them up.
const clients = [makeClient(), makeClient(new NodeHttpHandler()), makeClient(undefined, 3)];
test.after(() => clients.forEach((c) => c.destroy()));
coreFlows('HTTP/2 (the SDK default)', clients[0]);
coreFlows('HTTP/1.1', clients[1]);

// SubscribeToShard is an HTTP/2 event stream in this SDK: the backlog comes first, then a
// record put while subscribed, each with the continuation sequence number of its last record.
test('subscribeToShard pushes records with @aws-sdk/client-kinesis', async () => {
  const client = clients[0];
  const stream = `js-sdk-push-${crypto.randomBytes(4).toString('hex')}`;
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  const consumer = (await client.send(new RegisterStreamConsumerCommand({
    StreamARN: summary.StreamDescriptionSummary.StreamARN, ConsumerName: 'js',
  }))).Consumer;
  const first = await client.send(new PutRecordCommand({
    StreamName: stream, Data: Buffer.from('backlog'), PartitionKey: 'p',
  }));
  const out = await client.send(new SubscribeToShardCommand({
    ConsumerARN: consumer.ConsumerARN, ShardId: 'shardId-000000000000',
    StartingPosition: { Type: 'TRIM_HORIZON' },
  }));
  let late;
  const seen = [];
  const deadline = Date.now() + 10000;
  for await (const event of out.EventStream) {
    assert.ok(Date.now() < deadline, 'records did not arrive within 10 s');
    const e = event.SubscribeToShardEvent;
    if (!e || e.Records.length === 0) continue;
    for (const r of e.Records) seen.push([Buffer.from(r.Data).toString(), r.SequenceNumber]);
    assert.equal(e.ContinuationSequenceNumber, e.Records[e.Records.length - 1].SequenceNumber);
    if (seen.length === 1) {
      late = await client.send(new PutRecordCommand({
        StreamName: stream, Data: Buffer.from('live'), PartitionKey: 'p',
      }));
    }
    if (seen.length >= 2) break;
  }
  assert.deepEqual(seen, [['backlog', first.SequenceNumber], ['live', late.SequenceNumber]]);
  await client.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }));
});

// The operations a stream's administration adds to its data: a resource policy kept verbatim,
// the account's billing commitment and an on-demand stream's warm throughput, and ListShards'
// timestamp filter after a split (this SDK sends milliseconds, so instants a few ms apart work).
test('policies, settings, warm throughput and shard filters with @aws-sdk/client-kinesis',
  async () => {
    const client = clients[2];
    const stream = `js-sdk-admin-${crypto.randomBytes(4).toString('hex')}`;
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const arn = (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream })))
      .StreamDescriptionSummary.StreamARN;
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{
      Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' },
      Action: 'kinesis:GetRecords', Resource: arn }] });
    await client.send(new PutResourcePolicyCommand({ ResourceARN: arn, Policy: policy }));
    const got = await client.send(new GetResourcePolicyCommand({ ResourceARN: arn }));
    assert.equal(got.Policy, policy);

    const settings = await client.send(new UpdateAccountSettingsCommand({
      MinimumThroughputBillingCommitment: { Status: 'ENABLED' } }));
    const commitment = settings.MinimumThroughputBillingCommitment;
    assert.equal(commitment.Status, 'ENABLED');
    assert.ok(commitment.StartedAt instanceof Date);
    assert.equal(commitment.EarliestAllowedEndAt - commitment.StartedAt, 24 * 3600 * 1000);
    const onDemand = `${stream}-od`;
    await client.send(new CreateStreamCommand({
      StreamName: onDemand, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    const warm = await client.send(new UpdateStreamWarmThroughputCommand({
      StreamName: onDemand, WarmThroughputMiBps: 64 }));
    assert.deepEqual(warm.WarmThroughput, { TargetMiBps: 64, CurrentMiBps: 64 });

    const beforeSplit = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await client.send(new SplitShardCommand({
      StreamName: stream, ShardToSplit: 'shardId-000000000000',
      NewStartingHashKey: (2n ** 127n).toString() }));
    await new Promise((r) => setTimeout(r, 20));
    const afterSplit = new Date();
    const ids = async (filter) => (await client.send(new ListShardsCommand({
      StreamName: stream, ShardFilter: filter }))).Shards.map((s) => s.ShardId);
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: beforeSplit }),
      ['shardId-000000000000']);
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: afterSplit }),
      ['shardId-000000000001', 'shardId-000000000002']);
    assert.deepEqual(await ids({ Type: 'FROM_TIMESTAMP', Timestamp: afterSplit }),
      ['shardId-000000000001', 'shardId-000000000002']);
    await client.send(new DeleteStreamCommand({ StreamName: stream }));
    await client.send(new DeleteStreamCommand({ StreamName: onDemand }));
  });
