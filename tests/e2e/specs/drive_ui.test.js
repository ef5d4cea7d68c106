// Browser tests of the drive page's tools through the coordinator: list and grid (thumbnail
// or type icon), sorting, multi-select (shift ranges, select all) with bulk move, download
// and delete, drag and drop onto a folder and onto a breadcrumb, the trash (restore, delete
// forever, empty, each confirmed), the versions panel (download, restore), name search that
// opens the containing folder, the share dialog (public links with password, expiry, copy,
// download count, revoke; shares with another account, seen in their "Shared with me",
// revoked), text files opening in a new tab, and axe-core finding no serious or critical
// violation; screenshots at 1280 and 390 px go to $PENNCLOUD_SCREENSHOTS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, signUp, startCluster } from '../cluster.js';
import { DESKTOP, PHONE, assertAccessible, pageApi, shoot, until } from '../page.js';


let cluster;
let browser;

before(async () => {
  cluster = await startCluster({ frontends: 1 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function put(page, path, text) {
  const res = await pageApi(page, 'PUT', `/api/files/content?path=${encodeURIComponent(path)}`, text, true);
  assert.ok(res.status === 201 || res.status === 200, res.text);
}
async function folder(page, path) {
  assert.equal((await pageApi(page, 'POST', '/api/files/folder', { path })).status, 201);
}
async function names(page, path) {
  const res = await pageApi(page, 'GET', `/api/files?path=${encodeURIComponent(path)}`);
  return res.json.entries.map((e) => e.name).sort();
}

async function drivePage(user) {
  const { page, context, errors } = await openPage(browser, {
    contextOptions: { viewport: DESKTOP, acceptDownloads: true },
    consoleErrors: false,
  });
  await signUp(page, cluster, user, `password-${user}`);
  return { page, context, errors };
}

// Opens /drive (or `address`) and waits until the listing is drawn, handlers attached.
async function openDrive(page, address = '/drive') {
  await page.goto(cluster.url(address));
  await page.locator('#file-rows tr, #file-grid > li, #empty-folder:visible').first().waitFor();
}

const rowNames = (page) => page.locator('#file-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.name));
const row = (page, name) => page.locator(`#file-rows tr[data-name="${name}"]`);
const menu = async (page, name, item) => {
  await page.getByRole('button', { name: `Actions for ${name}` }).click();
  await page.getByRole('button', { name: item, exact: true }).click();
};
async function confirm(page) {
  await page.locator('#dialog-ok').click();
  await page.locator('#dialog').waitFor({ state: 'hidden' });
}

test('list and grid, sorting, multi-select with bulk move, download and delete', async () => {
  const { page, context, errors } = await drivePage('ada');
  await folder(page, '/Archive');
  await put(page, '/b-medium.txt', 'm'.repeat(2000));
  await put(page, '/a-small.txt', 's');
  await put(page, '/c-large.bin', 'l'.repeat(50000));
  // A PNG the thumbnailer may or may not know yet: either its thumbnail or the type icon.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await page.evaluate(async (bytes) => {
    const me = await (await fetch('/api/me')).json();
    await fetch('/api/files/content?path=%2Fd-photo.png', {
      method: 'PUT', headers: { 'X-CSRF-Token': me.csrf, 'Content-Type': 'image/png' },
      body: new Uint8Array(bytes),
    });
  }, [...png]);
  await openDrive(page);

  // Folders first, then by name; by size; reversed.
  assert.deepEqual(await rowNames(page), ['Archive', 'a-small.txt', 'b-medium.txt', 'c-large.bin', 'd-photo.png']);
  await page.getByLabel('Sort by').selectOption('size');
  assert.deepEqual(await rowNames(page), ['Archive', 'a-small.txt', 'd-photo.png', 'b-medium.txt', 'c-large.bin']);
  await page.getByRole('button', { name: 'Sort descending' }).click();
  assert.deepEqual(await rowNames(page), ['Archive', 'c-large.bin', 'b-medium.txt', 'd-photo.png', 'a-small.txt']);
  await page.getByRole('button', { name: 'Sort ascending' }).click();
  await page.getByLabel('Sort by').selectOption('name');
  await assertAccessible(page, 'the list');
  await shoot(page, 'drive-list', { fitsPhone: true });

  // Grid: a card per item; the picture shows its thumbnail or, if there is none, an icon.
  await page.getByRole('button', { name: 'Grid' }).click();
  await page.locator('#file-grid li[data-name="d-photo.png"]').waitFor({ state: 'attached' });
  assert.equal(await page.locator('#file-grid > li').count(), 5);
  assert.equal(await page.locator('#file-rows tr').count(), 0);
  const photo = page.locator('#file-grid li[data-name="d-photo.png"] .pc-thumb');
  await until(page, () => {
    const box = document.querySelector('#file-grid li[data-name="d-photo.png"] .pc-thumb');
    const img = box?.querySelector('img');
    return Boolean(box && (!img ? box.querySelector('.pc-thumb-icon') : img.complete && img.naturalWidth > 0));
  });
  assert.equal(await photo.locator('img, .pc-thumb-icon').count(), 1);
  assert.equal(await page.locator('#file-grid li[data-name="Archive"] .pc-thumb-icon').textContent(), '📁');
  await assertAccessible(page, 'the grid');
  await shoot(page, 'drive-grid', { fitsPhone: true });
  // The layout is remembered.
  await openDrive(page);
  assert.equal(await page.locator('#file-grid > li').count(), 5);
  await page.getByRole('button', { name: 'List' }).click();
  await row(page, 'Archive').waitFor();

  // Shift-click takes the range between two boxes; select all takes everything.
  await page.getByLabel('Select a-small.txt').check();
  await page.getByLabel('Select c-large.bin').click({ modifiers: ['Shift'] });
  await page.getByText('3 selected').waitFor();
  for (const n of ['a-small.txt', 'b-medium.txt', 'c-large.bin']) {
    assert.equal(await page.getByLabel(`Select ${n}`).isChecked(), true);
  }
  await page.getByLabel('Select all').check();
  await page.getByText('5 selected').waitFor();
  await page.getByRole('button', { name: 'Clear selection' }).click();
  await page.locator('#selection-bar').waitFor({ state: 'hidden' });

  // Bulk download: the file itself, a folder as a zip.
  await page.getByLabel('Select a-small.txt').check();
  await page.getByLabel('Select Archive').check();
  const both = new Promise((resolve) => {
    const got = [];
    page.on('download', (d) => {
      got.push(d.suggestedFilename());
      if (got.length === 2) resolve(got);
    });
  });
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  assert.deepEqual((await both).sort(), ['Archive.zip', 'a-small.txt']);
  await page.getByRole('button', { name: 'Clear selection' }).click();

  // Bulk move into a folder typed in the dialog.
  await page.getByLabel('Select a-small.txt').check();
  await page.getByLabel('Select b-medium.txt').check();
  await page.locator('#bulk-move').click();
  await page.getByLabel(/Destination folder/).fill('/Archive');
  await confirm(page);
  await row(page, 'a-small.txt').waitFor({ state: 'detached' });
  assert.deepEqual(await names(page, '/Archive'), ['a-small.txt', 'b-medium.txt']);

  // Bulk delete asks, then everything chosen goes to the trash.
  await page.getByLabel('Select c-large.bin').check();
  await page.getByLabel('Select d-photo.png').check();
  await page.locator('#bulk-delete').click();
  await page.getByText('Move 2 items to the trash?').waitFor();
  await confirm(page);
  await row(page, 'c-large.bin').waitFor({ state: 'detached' });
  assert.deepEqual(await names(page, '/'), ['Archive']);
  const trash = await pageApi(page, 'GET', '/api/trash');
  assert.deepEqual(trash.json.entries.map((e) => e.path).sort(), ['/c-large.bin', '/d-photo.png']);

  assert.deepEqual(errors, []);
  await context.close();
});

test('drag onto a folder and onto a breadcrumb moves; rename and new folder', async () => {
  const { page, context, errors } = await drivePage('bea');
  await folder(page, '/Projects');
  await put(page, '/plan.txt', 'the plan');
  await put(page, '/notes.txt', 'notes');
  await openDrive(page);

  await row(page, 'plan.txt').dragTo(row(page, 'Projects'));
  await row(page, 'plan.txt').waitFor({ state: 'detached' });
  assert.deepEqual(await names(page, '/Projects'), ['plan.txt']);

  await page.getByRole('link', { name: 'Open folder Projects' }).click();
  await row(page, 'plan.txt').waitFor();
  const crumb = page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My Drive' });
  await row(page, 'plan.txt').dragTo(crumb);
  await row(page, 'plan.txt').waitFor({ state: 'detached' });
  assert.deepEqual(await names(page, '/'), ['Projects', 'notes.txt', 'plan.txt']);
  await crumb.click();
  await row(page, 'plan.txt').waitFor();

  await menu(page, 'notes.txt', 'Rename notes.txt');
  await page.getByLabel('New name').fill('minutes.txt');
  await confirm(page);
  await row(page, 'minutes.txt').waitFor();

  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('Later');
  await confirm(page);
  await row(page, 'Later').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('trash: restore, delete forever and empty, each confirmed', async () => {
  const { page, context, errors } = await drivePage('cleo');
  for (const n of ['keep.txt', 'purge.txt', 'rest1.txt', 'rest2.txt']) await put(page, `/${n}`, n);
  for (const n of ['keep.txt', 'purge.txt', 'rest1.txt', 'rest2.txt']) {
    assert.equal((await pageApi(page, 'DELETE', `/api/files?path=%2F${n}`)).status, 200);
  }
  await openDrive(page);
  await page.getByRole('navigation', { name: 'Drive sections' }).getByRole('link', { name: 'Trash' }).click();
  await page.locator('#trash-rows tr').nth(3).waitFor();
  assert.ok(page.url().endsWith('/drive?view=trash'));
  await assertAccessible(page, 'the trash');
  await shoot(page, 'drive-trash', { fitsPhone: true });

  await page.getByRole('button', { name: 'Restore keep.txt' }).click();
  await page.getByText('Restored to /keep.txt.').waitFor();
  await page.locator('#trash-rows tr').nth(2).waitFor();
  assert.equal(await page.locator('#trash-rows tr').count(), 3);

  // Cancelling keeps it; confirming purges it.
  await page.getByRole('button', { name: 'Delete purge.txt forever' }).click();
  await page.getByText('Delete "purge.txt" for good?').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('#dialog').waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#trash-rows tr').count(), 3);
  await page.getByRole('button', { name: 'Delete purge.txt forever' }).click();
  await confirm(page);
  await page.locator('#trash-rows tr').nth(2).waitFor({ state: 'detached' });
  assert.equal(await page.locator('#trash-rows tr').count(), 2);

  await page.getByRole('button', { name: 'Empty trash' }).click();
  await page.getByText('Everything in the trash will be deleted for good.').waitFor();
  await confirm(page);
  await page.getByText('The trash is empty.', { exact: true }).first().waitFor();
  assert.equal((await pageApi(page, 'GET', '/api/trash')).json.entries.length, 0);
  assert.deepEqual(await names(page, '/'), ['keep.txt']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('versions: list, download an older one, restore it', async () => {
  const { page, context, errors } = await drivePage('dina');
  await put(page, '/essay.txt', 'first draft');
  await put(page, '/essay.txt', 'second draft, longer');
  await openDrive(page);
  await menu(page, 'essay.txt', 'Versions of essay.txt');
  await page.locator('#versions-list li').first().waitFor();
  assert.equal(await page.locator('#versions-list li').count(), 1);
  await assertAccessible(page, 'the versions panel');
  await shoot(page, 'drive-versions', { fitsPhone: true });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /^Download version 1/ }).click(),
  ]);
  assert.equal(readFileSync(await download.path(), 'utf8'), 'first draft');

  await page.getByRole('button', { name: /^Restore version 1/ }).click();
  await page.getByText('Restored. The content it replaced is now a version.').waitFor();
  const now = await pageApi(page, 'GET', '/api/files/content?path=%2Fessay.txt');
  assert.equal(now.text, 'first draft');
  await page.getByRole('button', { name: 'Close' }).click();
  await page.locator('#versions-dialog').waitFor({ state: 'hidden' });
  assert.match(await row(page, 'essay.txt').locator('td').nth(2).textContent(), /^11 B$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('search opens the containing folder; text opens in a new tab', async () => {
  const { page, context, errors } = await drivePage('edie');
  await folder(page, '/Taxes');
  await folder(page, '/Taxes/2026');
  await put(page, '/Taxes/2026/Résumé final.txt', 'my résumé');
  await put(page, '/resume-old.bin', 'x');
  await openDrive(page);

  await page.getByLabel('Search your drive by name').fill('resume');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#search-rows tr').nth(1).waitFor();
  assert.ok(page.url().includes('q=resume'));
  await assertAccessible(page, 'search results');
  await shoot(page, 'drive-search', { fitsPhone: true });
  await page.getByRole('link', { name: 'Show Résumé final.txt in /Taxes/2026' }).click();
  await row(page, 'Résumé final.txt').waitFor();
  assert.ok(page.url().includes(`path=${encodeURIComponent('/Taxes/2026')}`));
  assert.equal(await row(page, 'Résumé final.txt').evaluate((r) => r.classList.contains('pc-highlight')), true);

  // Plain text opens in a tab of its own, shown, not downloaded.
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    page.getByRole('link', { name: 'Open Résumé final.txt in a new tab' }).click(),
  ]);
  await tab.waitForLoadState();
  assert.equal((await tab.locator('body').textContent()).trim(), 'my résumé');
  await tab.close();
  assert.deepEqual(errors, []);
  await context.close();
});

test('share dialog: links with password and expiry, copy, count, revoke; people', async () => {
  const bob = await drivePage('fern');  // the colleague: must exist to be shared with
  const { page, context, errors } = await drivePage('gus');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: cluster.url('/') });
  await folder(page, '/Trip');
  await put(page, '/Trip/notes.txt', 'trip notes');
  await openDrive(page);

  await menu(page, 'Trip', 'Share Trip');
  await page.getByText('Only you have access.').waitFor();
  await page.getByLabel('Password (optional)').fill('secret-pass');
  await page.getByLabel('Expires (optional)').fill('2099-12-31');
  await page.getByRole('button', { name: 'Create link' }).click();
  await page.locator('#link-list li').first().waitFor();
  const facts = await page.locator('#link-list .pc-link-facts').textContent();
  assert.match(facts, /View and download · password · until .*2099.* · 0 downloads/);
  await page.getByRole('button', { name: 'Copy link 1' }).click();
  await page.getByText('Link copied.').waitFor();
  const url = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(url, /\/s\/[A-Za-z0-9_-]{43,}$/);

  // The link works with its password from outside, and the count shows it.
  const token = url.slice(url.lastIndexOf('/') + 1);
  const outside = await fetch(cluster.url(`/s/${token}/content?path=/notes.txt`), {
    headers: { 'X-Share-Password': 'secret-pass' },
  });
  assert.equal(outside.status, 200);
  assert.equal(await outside.text(), 'trip notes');

  // With the other account.
  await page.getByLabel('Username').fill('fern');
  await page.getByLabel('They can').selectOption('write');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.locator('#people-list li[data-user="fern"]').waitFor();
  assert.equal(await page.locator('#people-list li[data-user="fern"] span').textContent(), 'fern · can edit');
  await page.getByLabel('Username').fill('nobody-here');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.getByText('There is no account named nobody-here.').waitFor();
  await assertAccessible(page, 'the share dialog');
  await shoot(page, 'drive-share', { fitsPhone: true });

  // Reopened, the dialog shows the download.
  await page.getByRole('button', { name: 'Close' }).click();
  await page.locator('#share-dialog').waitFor({ state: 'hidden' });
  await menu(page, 'Trip', 'Share Trip');
  await page.locator('#link-list .pc-link-facts', { hasText: '1 download' }).waitFor();

  // Fern finds it under "Shared with me" and opens it.
  await openDrive(bob.page);
  await bob.page.getByRole('navigation', { name: 'Drive sections' }).getByRole('link', { name: 'Shared with me' }).click();
  await bob.page.getByRole('link', { name: 'Open folder gus' }).click();
  await bob.page.getByRole('link', { name: 'Open folder Trip' }).click();
  await row(bob.page, 'notes.txt').waitFor();
  await assertAccessible(bob.page, 'Shared with me');
  await shoot(bob.page, 'drive-shared-with-me', { fitsPhone: true });

  // Revoking the link and the share takes effect at once.
  await page.getByRole('button', { name: 'Revoke link 1' }).click();
  await page.locator('#link-list li').waitFor({ state: 'detached' });
  assert.equal((await fetch(cluster.url(`/s/${token}/info`))).status, 404);
  await page.getByRole('button', { name: 'Revoke access of fern' }).click();
  await page.getByText('Only you have access.').waitFor();
  const after = await pageApi(bob.page, 'GET', '/api/shares/incoming');
  assert.deepEqual(after.json.shares, []);

  assert.deepEqual(errors, []);
  await context.close();
  await bob.context.close();
});

test('keyboard: select, open the menu and act without a mouse', async () => {
  const { page, context, errors } = await drivePage('hal');
  await put(page, '/one.txt', '1');
  await openDrive(page);
  await page.getByLabel('Select one.txt').focus();
  await page.keyboard.press('Space');
  await page.getByText('1 selected').waitFor();
  await page.getByRole('button', { name: 'Actions for one.txt' }).focus();
  await page.keyboard.press('ArrowDown');
  await page.getByRole('button', { name: 'Rename one.txt' }).waitFor();
  const focused = () => page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  assert.equal(await focused(), 'Open one.txt in a new tab');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'Rename one.txt');
  await page.keyboard.press('Enter');
  await page.getByLabel('New name').fill('two.txt');
  await page.keyboard.press('Enter');
  await row(page, 'two.txt').waitFor();
  // Escape closes a menu and gives focus back to its button.
  await page.getByRole('button', { name: 'Actions for two.txt' }).press('Enter');
  await page.getByRole('button', { name: 'Rename two.txt' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Rename two.txt' }).waitFor({ state: 'hidden' });
  assert.equal(await focused(), 'Actions for two.txt');
  assert.deepEqual(errors, []);
  await context.close();
});
