// Browser tests of the drive page through the coordinator: upload (with progress), download,
// new folder, rename, move (through the folder picker), delete to the trash with
// confirmation, folder upload, breadcrumbs.
// (The page's other tools are in drive_ui.test.js.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, signUp, startCluster } from '../cluster.js';

let cluster;
let browser;
let files;

before(async () => {
  cluster = await startCluster({ frontends: 1 });
  browser = await launchBrowser();
  files = mkdtempSync(join(tmpdir(), 'penncloud-drive-e2e-'));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  if (files) rmSync(files, { recursive: true, force: true });
});

const sha = (buf) => createHash('sha256').update(buf).digest('hex');

function randomBytes(n, seed) {
  const buf = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

async function drivePage(user) {
  const { page, context, errors } = await openPage(browser, {
    contextOptions: { acceptDownloads: true },
    consoleErrors: false,
  });
  await signUp(page, cluster, user, `password-${user}`);
  await page.goto(cluster.url('/drive'));
  // The new user's empty listing is drawn by drive.js once it has loaded, so its buttons
  // have their handlers by then (on a loaded machine a click can otherwise come first).
  await page.locator('#empty-folder').waitFor();
  return { page, context, errors };
}

const row = (page, name) => page.locator('#file-rows tr', { has: page.getByText(name, { exact: true }) });
// An item of a row's action menu, by its accessible name ("Rename notes.txt").
async function act(page, name, action) {
  await page.getByRole('button', { name: `Actions for ${name}` }).click();
  return page.getByRole(action.startsWith('Download') ? 'link' : 'button', { name: `${action} ${name}` });
}

test('upload with progress, download, rename, move into a folder, delete', async () => {
  const { page, context, errors } = await drivePage('dora');
  const big = randomBytes(6 * 1024 * 1024 + 17, 1);
  writeFileSync(join(files, 'video.bin'), big);
  writeFileSync(join(files, 'notes.txt'), 'hello from the browser\n');

  await page.locator('#file-input').setInputFiles([join(files, 'video.bin'), join(files, 'notes.txt')]);
  const bars = page.getByRole('progressbar');
  await page.locator('#upload-list li[data-state="done"]').nth(1).waitFor({ timeout: 60000 });
  assert.equal(await bars.count(), 2);
  for (let i = 0; i < 2; i++) assert.equal(await bars.nth(i).getAttribute('aria-valuenow'), '100');
  await row(page, 'video.bin').waitFor();
  assert.match(await row(page, 'video.bin').locator('td').nth(2).textContent(), /^6\.0 MB$/);
  assert.match(await row(page, 'notes.txt').locator('td').nth(2).textContent(), /^23 B$/);

  // Download gives back the same bytes.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    (await act(page, 'video.bin', 'Download')).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'video.bin');
  const saved = join(files, 'downloaded.bin');
  await download.saveAs(saved);
  assert.equal(sha(readFileSync(saved)), sha(big));

  // New folder.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('Archive');
  await page.getByRole('button', { name: 'Create' }).click();
  await row(page, 'Archive').waitFor();

  // Rename.
  await (await act(page, 'notes.txt', 'Rename')).click();
  await page.getByLabel('New name').fill('renamed.txt');
  await page.getByRole('button', { name: 'Rename', exact: true }).click();
  await row(page, 'renamed.txt').waitFor();
  assert.equal(await row(page, 'notes.txt').count(), 0);

  // Move into the folder, then open it through its link and come back by breadcrumb.
  await (await act(page, 'renamed.txt', 'Move')).click();
  await page.locator('#picker-list').getByRole('button', { name: 'Open folder Archive' }).click();
  await page.getByRole('button', { name: 'Move here, to Archive' }).click();
  await page.locator('#picker-dialog').waitFor({ state: 'hidden' });
  await page.getByRole('link', { name: 'Open folder Archive' }).waitFor();
  await row(page, 'renamed.txt').waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Open folder Archive' }).click();
  await row(page, 'renamed.txt').waitFor();
  assert.ok(page.url().includes('path=%2FArchive'));
  await page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My Drive' }).click();
  await row(page, 'video.bin').waitFor();

  // Delete asks first; cancelling keeps the file, confirming moves it to the trash.
  await (await act(page, 'video.bin', 'Delete')).click();
  await page.getByText('Move "video.bin" to the trash? You can restore from the trash for 30 days.').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('#dialog').waitFor({ state: 'hidden' });
  assert.equal(await row(page, 'video.bin').count(), 1);
  await (await act(page, 'video.bin', 'Delete')).click();
  await page.locator('#dialog-ok').click();
  await row(page, 'video.bin').waitFor({ state: 'detached' });

  assert.deepEqual(errors, []);
  await context.close();
});

test('a whole folder uploads with its structure', async () => {
  const { page, context, errors } = await drivePage('felix');
  const tree = join(files, 'Photos');
  mkdirSync(join(tree, '2026'), { recursive: true });
  writeFileSync(join(tree, 'a.jpg'), randomBytes(300000, 2));
  writeFileSync(join(tree, '2026', 'b.jpg'), randomBytes(1000, 3));
  await page.locator('#folder-input').setInputFiles(tree);
  await page.locator('#upload-list li[data-state="done"]').nth(1).waitFor({ timeout: 60000 });
  await page.getByRole('link', { name: 'Open folder Photos' }).click();
  await row(page, 'a.jpg').waitFor();
  await page.getByRole('link', { name: 'Open folder 2026' }).click();
  await row(page, 'b.jpg').waitFor();
  const crumbs = await page.getByRole('navigation', { name: 'Folder path' }).locator('li').allTextContents();
  assert.deepEqual(crumbs, ['My Drive', 'Photos', '2026']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('bad names get a clear message in the dialog', async () => {
  const { page, context } = await drivePage('gwen');
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('..');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('#dialog-error').getByText('Please enter a name.').waitFor();
  await page.getByLabel('Folder name').fill('a/b');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('#dialog-error').getByText('A name cannot contain "/".').waitFor();
  await context.close();
});
