// The web console under a credentials file, in Debian's chromium: a reader's key signs in, sees
// only the streams it may read, and downloads a large record whole (fetched with its key in a
// header, saved from a blob: the key is in no URL). Exits non-zero on the first thing the page
// does not show.
//
// Environment: CONSOLE_URL, CONSOLE_SCREENSHOTS, CHROMIUM, NODE_PATH as console_browser.cjs;
// READER_KEY ("<id>:<secret>"), READABLE_STREAM, HIDDEN_STREAM, RECORD_FILE (the bytes of the
// one record of READABLE_STREAM).
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const CONSOLE_URL = process.env.CONSOLE_URL;
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const TIMEOUT_MS = 15000;

function log(message) {
  process.stdout.write(`[console-credentials] ${message}\n`);
}

async function waitForButton(page, text) {
  const handle = await page.waitForFunction((wanted) =>
    [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === wanted && !b.disabled),
  { timeout: TIMEOUT_MS }, text);
  return handle.asElement();
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'riffle-console-downloads-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const pageErrors = [];
  const requestedUrls = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => requestedUrls.push(r.url()));
    await page.setViewport({ width: 1280, height: 900 });
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });

    log('sign in with the reader key');
    await page.goto(`${CONSOLE_URL}/#/`);
    await page.waitForSelector('input[name="id"]', { timeout: TIMEOUT_MS });
    const [id, secret] = process.env.READER_KEY.split(':');
    await page.type('input[name="id"]', id);
    await page.type('input[name="secret"]', secret);
    await (await waitForButton(page, 'Sign in')).click();

    log('the list holds the readable stream only');
    const readable = process.env.READABLE_STREAM;
    await page.waitForSelector(`tr[data-stream="${readable}"]`, { timeout: TIMEOUT_MS });
    const listed = await page.$$eval('tr[data-stream]', (rows) => rows.map((r) => r.dataset.stream));
    assert.ok(listed.includes(readable), `listed: ${listed}`);
    assert.ok(!listed.includes(process.env.HIDDEN_STREAM), `listed: ${listed}`);
    await page.screenshot({ path: path.join(SHOTS, 'streams-reader.png'), fullPage: true });

    log('download the large record whole');
    await page.goto(`${CONSOLE_URL}/#/streams/${readable}/records`);
    await (await waitForButton(page, 'Read records')).click();
    await (await waitForButton(page, 'Download the full record')).click();
    const expected = fs.readFileSync(process.env.RECORD_FILE);
    const deadline = Date.now() + TIMEOUT_MS;
    let saved = null;
    while (Date.now() < deadline) {
      const done = fs.readdirSync(downloads).filter((f) => f.endsWith('.bin'));
      if (done.length === 1) {
        saved = fs.readFileSync(path.join(downloads, done[0]));
        if (saved.length === expected.length) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(saved, 'no file was downloaded');
    assert.ok(saved.equals(expected), `downloaded ${saved.length} bytes, not the record's ${expected.length}`);
    assert.ok(!requestedUrls.some((u) => u.includes(secret)), 'the secret went into a URL');

    assert.deepEqual(pageErrors, [], 'JavaScript errors on the page');
    log('all steps passed');
  } finally {
    await browser.close();
    fs.rmSync(downloads, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`[console-credentials] FAILED: ${e.stack || e}\n`);
  process.exit(1);
});
