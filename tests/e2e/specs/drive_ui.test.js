// Browser tests of the drive page's tools through the coordinator: list and grid (thumbnail
// or type icon, the icons Debian's bootstrap-icons SVGs), sorting, multi-select (shift
// ranges, select all) with bulk move through the folder picker, download as one zip and
// delete, drag and drop onto a folder and onto a breadcrumb, a write share (new folder, move,
// delete) and thumbnails for share viewers (Shared with me, the public link page), the trash (restore, delete
// forever, empty, each confirmed), the versions panel (download, restore), name search that
// opens the containing folder, the share dialog (public links with password, expiry, copy,
// download count, revoke; shares with another account, seen in their "Shared with me",
// revoked), text files opening in a new tab, and axe-core finding no serious or critical
// violation; screenshots at 1280 and 390 px go to $PENNCLOUD_SCREENSHOTS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

// name -> size of every entry of a downloaded zip, read with Python's zipfile.
function zipListing(file) {
  const out = execFileSync('python3', ['-c',
    'import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; '
    + 'print(json.dumps({i.filename: i.file_size for i in z.infolist()}))', file]);
  return JSON.parse(out);
}

// A 1x1 PNG, uploaded with its type.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
async function putPng(page, path) {
  const status = await page.evaluate(async ({ bytes, path }) => {
    const me = await (await fetch('/api/me')).json();
    const res = await fetch(`/api/files/content?path=${encodeURIComponent(path)}`, {
      method: 'PUT', headers: { 'X-CSRF-Token': me.csrf, 'Content-Type': 'image/png' },
      body: new Uint8Array(bytes),
    });
    return res.status;
  }, { bytes: [...PNG], path });
  assert.ok(status === 201 || status === 200, `PUT ${path}: ${status}`);
}

// Whether the image `selector` finds has loaded with real pixels.
const imageLoaded = (selector) => {
  const img = document.querySelector(selector);
  return Boolean(img && img.complete && img.naturalWidth > 0);
};

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
  // Type icons are Debian's bootstrap-icons SVGs, drawn as masks from the style sheet.
  const folderIcon = page.locator('#file-grid li[data-name="Archive"] .pc-thumb-icon');
  assert.equal(await folderIcon.getAttribute('data-kind'), 'folder');
  assert.equal(await folderIcon.textContent(), '');
  assert.match(await folderIcon.evaluate((el) => getComputedStyle(el).maskImage || getComputedStyle(el).webkitMaskImage),
    /\/icons\/folder-fill\.svg/);
  const svg = await page.evaluate(async () => {
    const res = await fetch('/icons/folder-fill.svg');
    return { status: res.status, type: res.headers.get('Content-Type'), text: await res.text() };
  });
  assert.equal(svg.status, 200);
  assert.match(svg.type, /^image\/svg\+xml/);
  assert.match(svg.text, /<svg/);
  await assertAccessible(page, 'the grid');
  await shoot(page, 'drive-grid', { fitsPhone: true });
  // The layout is remembered (counted once the grid is drawn: a loaded CI run counted 0).
  await openDrive(page);
  await page.locator('#file-grid li[data-name="d-photo.png"]').waitFor({ state: 'attached' });
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

  // Bulk download: one zip of everything chosen, folders whole.
  await put(page, '/Archive/inside.txt', 'in the archive');
  await page.getByLabel('Select a-small.txt').check();
  await page.getByLabel('Select Archive').check();
  await page.getByLabel('Select b-medium.txt').check();
  const [zip] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download', exact: true }).click(),
  ]);
  assert.equal(zip.suggestedFilename(), 'download.zip');
  assert.deepEqual(zipListing(await zip.path()),
    { 'Archive/': 0, 'Archive/inside.txt': 14, 'a-small.txt': 1, 'b-medium.txt': 2000 });
  await page.getByRole('button', { name: 'Clear selection' }).click();

  // Bulk move: a folder picked in the picker, never one of the items moved.
  await folder(page, '/Archive/2026');
  await page.getByLabel('Select a-small.txt').check();
  await page.getByLabel('Select b-medium.txt').check();
  await page.getByLabel('Select Archive').check();
  await page.locator('#bulk-move').click();
  await page.locator('#picker-dialog').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Archive (being moved)' }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Already in this folder' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('#picker-dialog').waitFor({ state: 'hidden' });
  await page.getByLabel('Select Archive').uncheck();
  await page.locator('#bulk-move').click();
  await page.getByRole('button', { name: 'Open folder Archive' }).click();
  await page.getByRole('button', { name: 'Open folder 2026' }).click();
  await page.getByRole('button', { name: 'Move here, to 2026' }).waitFor();
  await assertAccessible(page, 'the folder picker', '#picker-dialog');
  await shoot(page, 'drive-picker', { fitsPhone: true });
  // Its path leads back up; the folder shown is where the items go.
  await page.locator('#picker-crumbs').getByRole('button', { name: 'Archive' }).click();
  await page.getByRole('button', { name: 'Move here, to Archive' }).click();
  await page.locator('#picker-dialog').waitFor({ state: 'hidden' });
  await row(page, 'a-small.txt').waitFor({ state: 'detached' });
  await page.getByText('Moved 2 items to /Archive.').waitFor();
  assert.deepEqual(await names(page, '/Archive'), ['2026', 'a-small.txt', 'b-medium.txt', 'inside.txt']);

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
  // The message can come before the list is drawn again: wait for the fourth row to go.
  await page.locator('#trash-rows tr').nth(3).waitFor({ state: 'detached' });
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

test('write share: new folder, move and delete inside it; share viewers see thumbnails', async () => {
  const owner = await drivePage('ivy');
  const { page, context, errors } = await drivePage('jon');
  await folder(owner.page, '/Team');
  await folder(owner.page, '/Team/Drafts');
  await put(owner.page, '/Team/plan.txt', 'the plan');
  await put(owner.page, '/Team/old.txt', 'old');
  await folder(owner.page, '/Pics');
  await putPng(owner.page, '/Pics/dot.png');
  for (const [path, permission] of [['/Team', 'write'], ['/Pics', 'read']]) {
    const res = await pageApi(owner.page, 'POST', '/api/shares', { path, user: 'jon', permission });
    assert.equal(res.status, 201, res.text);
  }

  // A read share: downloads only, but its images show thumbnails in the grid.
  await openDrive(page, `/drive?path=${encodeURIComponent('/Shared with me/ivy/Pics')}`);
  assert.equal(await page.getByRole('button', { name: 'New folder' }).isHidden(), true);
  await page.getByRole('button', { name: 'Grid' }).click();
  await until(page, imageLoaded, '#file-grid li[data-name="dot.png"] .pc-thumb img');
  await page.getByRole('button', { name: 'List' }).click();

  // A write share: a new folder, a move through the picker (rooted at the share), a delete.
  await openDrive(page, `/drive?path=${encodeURIComponent('/Shared with me/ivy/Team')}`);
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('Later');
  await confirm(page);
  await row(page, 'Later').waitFor();
  assert.deepEqual(await names(owner.page, '/Team'), ['Drafts', 'Later', 'old.txt', 'plan.txt']);

  await menu(page, 'plan.txt', 'Move plan.txt');
  await page.locator('#picker-crumbs').getByText('Team').waitFor();
  await page.getByRole('button', { name: 'Open folder Drafts' }).click();
  await page.getByRole('button', { name: 'Move here, to Drafts' }).click();
  await page.locator('#picker-dialog').waitFor({ state: 'hidden' });
  await row(page, 'plan.txt').waitFor({ state: 'detached' });
  assert.deepEqual(await names(owner.page, '/Team/Drafts'), ['plan.txt']);

  // Out of the share into one's own drive: the picker climbs to My Drive; the owner's copy
  // goes to the owner's trash.
  await menu(page, 'Later', 'Move Later');
  await page.locator('#picker-crumbs').getByText('Team').waitFor();
  await page.locator('#picker-crumbs').getByRole('button', { name: 'My Drive' }).click();
  await page.getByRole('button', { name: 'Move here, to My Drive' }).click();
  await page.locator('#picker-dialog').waitFor({ state: 'hidden' });
  await row(page, 'Later').waitFor({ state: 'detached' });
  assert.ok((await names(page, '/')).includes('Later'));
  assert.deepEqual(await names(owner.page, '/Team'), ['Drafts', 'old.txt']);

  await menu(page, 'old.txt', 'Delete old.txt');
  await confirm(page);
  await row(page, 'old.txt').waitFor({ state: 'detached' });
  const trash = await pageApi(owner.page, 'GET', '/api/trash');
  assert.deepEqual(trash.json.entries.map((e) => e.path).sort(), ['/Team/Later', '/Team/old.txt']);
  // The shared folder itself stays the owner's: no menu of changes one level up.
  await openDrive(page, `/drive?path=${encodeURIComponent('/Shared with me/ivy')}`);
  await page.getByRole('button', { name: 'Actions for Team' }).click();
  assert.equal(await page.getByRole('button', { name: 'Delete Team' }).count(), 0);
  await assertAccessible(page, 'Shared with me, an owner');

  // The public link page shows thumbnails too.
  const link = await pageApi(owner.page, 'POST', '/api/shares', { path: '/Pics', permission: 'read' });
  assert.equal(link.status, 201, link.text);
  await page.goto(cluster.url(link.json.url));
  await page.locator('#entries li').first().waitFor();
  await until(page, imageLoaded, '#entries img.pc-share-thumb');
  await assertAccessible(page, 'the link page with thumbnails');

  assert.deepEqual(errors, []);
  assert.deepEqual(owner.errors, []);
  await context.close();
  await owner.context.close();
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
