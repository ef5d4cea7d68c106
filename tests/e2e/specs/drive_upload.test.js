// Resumable uploads on the drive page (web/static/drive.upload.js): a 12 MiB file goes over
// tus in 4 MiB PATCHes; the test holds the second PATCH, pauses (the page drops it), resumes
// (the page asks the server for its offset and carries on from 4 MiB, not from 0), cuts the
// third PATCH's connection (the page retries on its own), and checks the stored bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, signUp, startCluster } from '../cluster.js';

const MIB = 1 << 20;
let cluster;
let browser;
let files;

before(async () => {
  cluster = await startCluster({ frontends: 1 });
  browser = await launchBrowser();
  files = mkdtempSync(join(tmpdir(), 'penncloud-upload-e2e-'));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  if (files) rmSync(files, { recursive: true, force: true });
});

const sha = (buf) => createHash('sha256').update(buf).digest('hex');

test('a big upload pauses, resumes at the server offset, survives a drop, lands whole', async () => {
  const data = Buffer.alloc(12 * MIB);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(files, 'big.bin'), data);

  const { page } = await openPage(browser, { consoleErrors: false });
  await signUp(page, cluster, 'tina', 'password-tina');
  await page.goto(cluster.url('/drive'));
  await page.locator('#empty-folder').waitFor();

  // PATCH offsets in the order the page sent them. The second PATCH is held until the test
  // lets it go; the first attempt at 8 MiB has its connection cut.
  const offsets = [];
  let letGo;
  const held = new Promise((resolve) => { letGo = resolve; });
  let cut = false;
  await page.route('**/api/uploads/*', async (route) => {
    const req = route.request();
    if (req.method() !== 'PATCH') return route.continue();
    const offset = Number(req.headers()['upload-offset']);
    offsets.push(offset);
    if (offsets.length === 2) {
      await held;
      return route.abort().catch(() => {});  // the page dropped it when paused
    }
    if (offset === 8 * MIB && !cut) {
      cut = true;
      return route.abort('connectionreset');
    }
    return route.continue();
  });

  await page.locator('#file-input').setInputFiles(join(files, 'big.bin'));
  const pause = page.getByRole('button', { name: 'Pause or resume big.bin' });
  await pause.waitFor();
  // The first 4 MiB are in once the second PATCH has been asked for.
  await waitFor(() => offsets.length === 2, 30000);
  const bar = page.getByRole('progressbar', { name: 'Upload of big.bin' });
  assert.ok(Number(await bar.getAttribute('aria-valuenow')) >= 33);
  await pause.click();
  await waitFor(async () => (await pause.textContent()) === 'Resume', 10000);
  assert.equal(await pause.getAttribute('aria-pressed'), 'true');
  letGo();

  // Paused: nothing more is sent.
  const before = offsets.length;
  await page.waitForTimeout(500);
  assert.equal(offsets.length, before);

  await pause.click();
  await page.locator('#upload-list li[data-state="done"]').waitFor({ timeout: 60000 });
  // Resumed at the server's offset (4 MiB, not 0), and the cut PATCH was sent again.
  assert.deepEqual(offsets, [0, 4 * MIB, 4 * MIB, 8 * MIB, 8 * MIB]);

  const got = await page.request.get(cluster.url('/api/files/content?path=/big.bin'));
  assert.equal(got.status(), 200);
  assert.equal(sha(await got.body()), sha(data));
});

async function waitFor(condition, ms) {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
