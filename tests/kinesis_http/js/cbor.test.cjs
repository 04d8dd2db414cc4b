// The CBOR variant of the protocol (application/x-amz-cbor-1.1), which the Java SDKs and the
// KCL send by default, spoken with the `cbor` npm codec the way those SDKs encode it: blobs as
// byte strings, timestamps as tag 1 with epoch milliseconds, maps of indefinite length.
// test_js_sdk.py starts the daemon and passes its endpoint in KINESIS_ENDPOINT.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const cbor = require('cbor');

const endpoint = new URL(process.env.KINESIS_ENDPOINT);
const CBOR = 'application/x-amz-cbor-1.1';
const agent = new http.Agent({ keepAlive: true });

// Decodes tag 1 to its raw number (milliseconds), not to a Date in seconds as RFC 8949 has it.
function decode(body) {
  return body.length ? cbor.decodeFirstSync(body, { tags: { 1: (v) => ({ millis: v }) } }) : null;
}

function call(operation, body, { raw = null, contentType = CBOR } = {}) {
  const payload = raw ?? cbor.encode(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: endpoint.hostname, port: endpoint.port, method: 'POST', path: '/', agent,
      headers: {
        'Content-Type': contentType,
        'X-Amz-Target': `Kinesis_20131202.${operation}`,
        'X-Amz-Date': '20261127T000000Z',
        Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDCBOR/20261127/us-east-1/kinesis/' +
          'aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00',
        'Content-Length': payload.length,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buffer = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: decode(buffer) });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('CBOR: create, put blobs, read them back from a timestamp', async () => {
  const stream = `cbor-${crypto.randomBytes(4).toString('hex')}`;
  const created = await call('CreateStream', { StreamName: stream, ShardCount: 1 });
  assert.equal(created.status, 200, JSON.stringify(created.body));

  const before = Date.now() - 1;
  const blob = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x41]);
  const put = await call('PutRecord', { StreamName: stream, Data: blob, PartitionKey: 'k' });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.headers['content-type'], CBOR);
  assert.equal(put.body.ShardId, 'shardId-000000000000');
  assert.match(put.body.SequenceNumber, /^\d+$/);

  const batch = await call('PutRecords', {
    StreamName: stream,
    Records: [{ Data: Buffer.from('two'), PartitionKey: 'a' },
      { Data: Buffer.alloc(0), PartitionKey: 'b' }],
  });
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  assert.equal(batch.body.FailedRecordCount, 0);
  assert.equal(batch.body.Records.length, 2);

  const iterator = await call('GetShardIterator', {
    StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP',
    Timestamp: new cbor.Tagged(1, before),
  });
  assert.equal(iterator.status, 200, JSON.stringify(iterator.body));
  const got = await call('GetRecords', { ShardIterator: iterator.body.ShardIterator });
  assert.equal(got.status, 200, JSON.stringify(got.body));
  const records = got.body.Records;
  assert.deepEqual(records.map((r) => r.SequenceNumber),
    [put.body.SequenceNumber, ...batch.body.Records.map((r) => r.SequenceNumber)]);
  assert.ok(Buffer.isBuffer(records[0].Data), 'Data must come back as a byte string');
  assert.deepEqual(records[0].Data, blob);
  assert.deepEqual(records[1].Data, Buffer.from('two'));
  assert.equal(records[2].Data.length, 0);
  for (const r of records) {
    assert.ok(r.ApproximateArrivalTimestamp.millis >= before &&
              r.ApproximateArrivalTimestamp.millis <= Date.now(),
              `arrival ${JSON.stringify(r.ApproximateArrivalTimestamp)} is not epoch millis`);
  }

  const summary = await call('DescribeStreamSummary', { StreamName: stream });
  assert.ok(summary.body.StreamDescriptionSummary.StreamCreationTimestamp.millis >= before - 60000);
});

test('CBOR: indefinite-length maps, as Jackson writes them', async () => {
  // {_ "Limit": 5} then break
  const raw = Buffer.concat([Buffer.from([0xbf, 0x65]), Buffer.from('Limit'),
    Buffer.from([0x05, 0xff])]);
  const out = await call('ListStreams', null, { raw });
  assert.equal(out.status, 200, JSON.stringify(out.body));
  assert.ok(Array.isArray(out.body.StreamNames));
  assert.equal(typeof out.body.HasMoreStreams, 'boolean');
});

test('CBOR: errors come back as CBOR maps', async () => {
  const missing = await call('DescribeStream', { StreamName: 'no-such-cbor-stream' });
  assert.equal(missing.status, 400);
  assert.equal(missing.headers['content-type'], CBOR);
  assert.equal(missing.headers['x-amzn-errortype'], 'ResourceNotFoundException');
  assert.equal(missing.body.__type, 'ResourceNotFoundException');
  assert.match(missing.body.message, /no-such-cbor-stream/);

  const truncated = await call('ListStreams', null, { raw: Buffer.from([0xa1, 0x65, 0x4c]) });
  assert.equal(truncated.status, 400);
  assert.equal(truncated.headers['content-type'], CBOR);
  assert.equal(truncated.body.__type, 'SerializationException');

  const wrongType = await call('DescribeStream', { StreamName: true });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.body.__type, 'SerializationException');
  assert.equal(wrongType.body.Message, 'class java.lang.Boolean can not be converted to an String');
});
