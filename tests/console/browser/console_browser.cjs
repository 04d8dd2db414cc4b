// Drives the web console in Debian's chromium, as a user would: create a stream through the
// form, put a record, find it by partition key and by time, watch a record put by boto3 arrive
// in the live tail, split a shard and see the lineage, delete the stream. Screenshots of every
// page go to CONSOLE_SCREENSHOTS. Exits non-zero on the first thing the page does not show.
//
// Environment: CONSOLE_URL, KINESIS_ENDPOINT, CONSOLE_SCREENSHOTS, CHROMIUM (the browser),
// NODE_PATH (puppeteer-core from the build tree).
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const CONSOLE_URL = process.env.CONSOLE_URL;
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const STREAM = `console-e2e-${process.pid}`;
const TIMEOUT_MS = 15000;

function log(message) {
  process.stdout.write(`[console-browser] ${message}\n`);
}

// What boto3 does from outside the console: one PutRecord on the Kinesis port.
function putWithBoto3(stream, partitionKey, data) {
  execFileSync('python3', ['-c', `
import boto3, os, sys
client = boto3.client("kinesis", endpoint_url=os.environ["KINESIS_ENDPOINT"], region_name="us-east-1",
                      aws_access_key_id="AKIDRIFFLETEST", aws_secret_access_key="riffle-test-secret")
client.put_record(StreamName=sys.argv[1], PartitionKey=sys.argv[2], Data=sys.argv[3].encode())
`, stream, partitionKey, data], { stdio: 'inherit', timeout: 30000 });
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  log(`screenshot ${name}.png`);
}

// The button whose visible text is exactly `text`.
async function button(page, text) {
  const handle = await page.waitForFunction((wanted) =>
    [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === wanted && !b.disabled),
  { timeout: TIMEOUT_MS }, text);
  return handle.asElement();
}

async function clickButton(page, text) {
  await (await button(page, text)).click();
}

async function clickLink(page, text) {
  const handle = await page.waitForFunction((wanted) =>
    [...document.querySelectorAll('a')].find((a) => a.textContent.trim() === wanted),
  { timeout: TIMEOUT_MS }, text);
  await handle.asElement().click();
}

async function fill(page, selector, text) {
  await page.waitForSelector(selector, { timeout: TIMEOUT_MS });
  await page.click(selector, { clickCount: 3 });
  await page.keyboard.press('Backspace');
  if (text) await page.type(selector, text);
}

async function textOf(page, selector) {
  return page.$eval(selector, (el) => el.textContent);
}

async function waitForText(page, selector, wanted) {
  await page.waitForFunction((sel, text) => {
    const el = document.querySelector(sel);
    return el && el.textContent.includes(text);
  }, { timeout: TIMEOUT_MS }, selector, wanted);
}

// The partition keys of the rows of the table labelled `label`.
async function rowKeys(page, label) {
  return page.$$eval(`table[aria-label="${label}"] tbody tr`,
    (rows) => rows.map((r) => r.dataset.partitionKey));
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const pageErrors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
    await page.setViewport({ width: 1280, height: 900 });

    log('streams page: create a stream through the form');
    await page.goto(`${CONSOLE_URL}/#/`);
    await waitForText(page, 'h1', 'Data streams');
    await fill(page, '#create-name', STREAM);
    await page.select('#create-mode', 'PROVISIONED');
    await fill(page, '#create-shards', '2');
    await clickButton(page, 'Create data stream');
    const row = `tr[data-stream="${STREAM}"]`;
    await waitForText(page, `${row} .status`, 'ACTIVE');
    assert.equal(await page.$eval(row, (r) => r.cells[3].textContent), '2', 'open shards');
    await screenshot(page, 'streams');

    log('stream page: two open shards');
    await page.click(`${row} a`);
    await waitForText(page, 'h1', STREAM);
    await page.waitForSelector('table[aria-label="Shards"] tbody tr');
    assert.equal((await page.$$('table[aria-label="Shards"] tbody tr')).length, 2);

    log('put a record through the form');
    await clickLink(page, 'Put record');
    const beforePut = new Date(Date.now() - 1000).toISOString();
    await fill(page, '#put-partition-key', 'order-42');
    await fill(page, '#put-data', '{"order":42,"item":"tea"}');
    await clickButton(page, 'Put record');
    await waitForText(page, '#put-result', 'shardId-');
    const putSequenceNumber = await textOf(page, '#put-result code.seq');
    const afterPut = new Date(Date.now() + 1).toISOString();
    await screenshot(page, 'put-record');

    log('record browser: by partition key, shown as pretty JSON');
    await clickLink(page, 'Record browser');
    await fill(page, '#read-partition-key', 'order-42');
    await page.select('#read-format', 'json');
    await clickButton(page, 'Read records');
    await page.waitForSelector('table[aria-label="Records"] tbody tr');
    assert.deepEqual(await rowKeys(page, 'Records'), ['order-42']);
    assert.equal(await textOf(page, 'table[aria-label="Records"] code.seq'), putSequenceNumber);
    assert.equal(await textOf(page, 'table[aria-label="Records"] pre.data'),
      '{\n  "order": 42,\n  "item": "tea"\n}');
    await screenshot(page, 'records-by-key');

    log('record browser: by timestamp, before and after the record');
    await fill(page, '#read-partition-key', '');
    await page.select('#read-from', 'AT_TIMESTAMP');
    await fill(page, '#read-timestamp', beforePut);
    await clickButton(page, 'Read records');
    await waitForText(page, '[role="status"]', 'Page 1: 1 record(s)');
    assert.deepEqual(await rowKeys(page, 'Records'), ['order-42']);
    await screenshot(page, 'records-by-time');
    await fill(page, '#read-timestamp', afterPut);
    await clickButton(page, 'Read records');
    await waitForText(page, '[role="status"]', 'Page 1: 0 record(s)');
    await fill(page, '#read-timestamp', 'yesterday');
    await clickButton(page, 'Read records');
    await waitForText(page, '[role="alert"]', 'InvalidArgumentException');

    log('live tail: a record put by boto3 arrives');
    await clickLink(page, 'Live tail');
    await waitForText(page, '#tail-state', 'Live');
    putWithBoto3(STREAM, 'from-boto3', 'hello from boto3');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('table[aria-label="Live records"] tbody tr')]
        .some((r) => r.dataset.partitionKey === 'from-boto3'), { timeout: TIMEOUT_MS });
    assert.match(await textOf(page, 'table[aria-label="Live records"] pre.data'), /hello from boto3/);
    await clickButton(page, 'Pause');
    await waitForText(page, '#tail-state', 'Paused');
    await screenshot(page, 'live-tail');

    log('streams list: the incoming sparklines show the two records');
    await page.goto(`${CONSOLE_URL}/#/`);
    await page.waitForFunction((sel) => {
      const spark = document.querySelector(`${sel} [data-incoming="records"] .sparkline`);
      return spark && Number(spark.dataset.total) === 2 && spark.querySelector('canvas');
    }, { timeout: 20000 }, row);
    await screenshot(page, 'streams-sparklines');

    log('monitoring: charts of the incoming records, per shard');
    await page.goto(`${CONSOLE_URL}/#/streams/${STREAM}/monitoring`);
    await page.waitForFunction(() => {
      const chart = document.querySelector('#stream-charts figure.chart');
      return chart && Number(chart.dataset.points) > 0 && chart.querySelector('canvas');
    }, { timeout: 20000 });
    const captions = await page.$$eval('#stream-charts figcaption', (cs) => cs.map((c) => c.textContent));
    assert.deepEqual(captions, ['Incoming records (per second)', 'Incoming bytes (per second)',
      'Iterator age (highest, ms)']);
    const legend = await page.$eval('#stream-charts figure.chart .u-legend', (l) => l.textContent);
    assert.match(legend, /stream/);
    assert.match(legend, /shard \d/);
    await screenshot(page, 'monitoring');

    log('shards: split one and see the lineage');
    await clickLink(page, 'Shards');
    await clickLink(page, 'Shards');
    await (await page.waitForSelector('::-p-aria(Split shardId-000000000000 in half)')).click();
    // The preview shows the two halves before anything changes.
    await waitForText(page, '.preview', '0 – 85070591730234615865843651857942052863');
    await waitForText(page, '.preview', '85070591730234615865843651857942052864 – 170141183460469231731687303715884105727');
    assert.equal((await page.$$('svg.lineage line.edge')).length, 0);
    await clickButton(page, 'Apply split');
    await page.waitForFunction(() =>
      document.querySelectorAll('svg.lineage line.edge[data-parent="shardId-000000000000"]').length === 2,
    { timeout: TIMEOUT_MS });
    const nodes = await page.$$eval('svg.lineage g.node', (gs) => gs.map((g) => [g.dataset.shard, g.classList.contains('open')]));
    assert.deepEqual(nodes.sort(), [
      ['shardId-000000000000', false], ['shardId-000000000001', true],
      ['shardId-000000000002', true], ['shardId-000000000003', true]]);
    await screenshot(page, 'shards-lineage');

    log('shards: preview UpdateShardCount, then apply it');
    await fill(page, '#scale-target', '2');
    await clickButton(page, 'Preview shard count');
    const scalePreview = '[aria-label="Shard count preview"]';
    await waitForText(page, scalePreview, '0 – 170141183460469231731687303715884105727');
    await waitForText(page, scalePreview, 'from shardId-000000000002 and shardId-000000000003');
    await waitForText(page, scalePreview,
      '170141183460469231731687303715884105728 – 340282366920938463463374607431768211455');
    await screenshot(page, 'scale-preview');
    // Nothing changed yet: three open shards.
    await waitForText(page, 'main h2', 'Shards (4, 3 open)');
    await fill(page, '#scale-target', '7');
    await clickButton(page, 'Preview shard count');
    await waitForText(page, scalePreview, 'between half and double the 3 open shards');
    await fill(page, '#scale-target', '2');
    await clickButton(page, 'Preview shard count');
    await clickButton(page, 'Apply shard count');
    await waitForText(page, 'main', 'Shards (6, 2 open)');

    log('phone width and dark mode');
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await clickButton(page, '☾ Dark');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark',
      { timeout: TIMEOUT_MS });
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).colorScheme), 'dark');
    await screenshot(page, 'shards-phone-dark');
    await clickLink(page, 'Monitoring');
    await page.waitForSelector('#stream-charts figure.chart canvas', { timeout: 20000 });
    const chartOverflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(chartOverflow <= 0, `the charts are ${chartOverflow}px wider than a phone`);
    const chartWidth = await page.$eval('#stream-charts canvas', (c) => c.getBoundingClientRect().width);
    assert.ok(chartWidth <= 390, `a chart is ${chartWidth}px wide on a phone`);
    await screenshot(page, 'monitoring-phone-dark');
    await clickButton(page, '☀ Light');
    await page.setViewport({ width: 1280, height: 900 });

    log('keyboard: the first Tab of a fresh page reaches the header link');
    await page.goto('about:blank');
    await page.goto(`${CONSOLE_URL}/#/`);
    await waitForText(page, `${row} .status`, 'ACTIVE');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Riffle');

    log('a stream of 1100 shards: the table pages, the graph is left out');
    const wide = `${STREAM}-wide`;
    const created = await fetch(`${CONSOLE_URL}/api/streams`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: wide, mode: 'PROVISIONED', shard_count: 1100 }) });
    assert.equal(created.status, 201, await created.text());
    await page.goto(`${CONSOLE_URL}/#/streams/${wide}`);
    await waitForText(page, 'nav.pager', 'Page 1 of 11');
    assert.equal((await page.$$('table[aria-label="Shards"] tbody tr')).length, 100);
    await waitForText(page, 'main', 'The lineage graph is drawn for up to 300 shards');
    await clickButton(page, 'Next');
    await waitForText(page, 'nav.pager', 'Page 2 of 11');
    assert.equal(await page.$eval('table[aria-label="Shards"] tbody tr', (r) => r.dataset.shard),
      'shardId-000000000100');
    const deleted = await fetch(`${CONSOLE_URL}/api/streams/${wide}`, {
      method: 'DELETE', headers: { 'Content-Type': 'application/json' } });
    assert.equal(deleted.status, 200, await deleted.text());

    log('an unknown stream says so');
    await page.goto(`${CONSOLE_URL}/#/streams/no-such-stream`);
    await waitForText(page, '[role="alert"]', 'ResourceNotFoundException');

    log('delete the stream, with confirmation');
    await page.goto(`${CONSOLE_URL}/#/`);
    await (await page.waitForSelector(`::-p-aria(Delete ${STREAM})`)).click();
    await clickButton(page, `Delete ${STREAM} and its records`);
    await page.waitForFunction((sel) => !document.querySelector(sel), { timeout: TIMEOUT_MS }, row);
    await screenshot(page, 'streams-after-delete');

    assert.deepEqual(pageErrors, [], 'JavaScript errors on the page');
    log('all steps passed');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`[console-browser] FAILED: ${e.stack || e}\n`);
  process.exit(1);
});
