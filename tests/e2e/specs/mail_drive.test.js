// Browser tests of mail and drive together: "Save to Drive" on an attachment (a folder
// picked in the drive; the bytes land there) and "Attach from Drive" in compose (files
// picked, one removed again, the rest arriving as attachments; a file another account
// shared, reached through "Shared with me"), with axe-core finding no
// serious or critical violation in the picker; screenshots at 1280 and 390 px go to
// $PENNCLOUD_SCREENSHOTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, signUp, startCluster } from '../cluster.js';
import { DESKTOP, PHONE, assertAccessible, pageApi, shoot } from '../page.js';


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

async function user(name) {
  const { page, context, errors } = await openPage(browser, {
    contextOptions: { viewport: DESKTOP }, consoleErrors: false,
  });
  await signUp(page, cluster, name, `password-${name}`);
  return { page, context, errors };
}

async function openMail(page) {
  await page.goto(cluster.url('/mail'));
  await page.locator('#folders [data-folder="inbox"]').waitFor();
}

test('Save to Drive puts an attachment into the folder picked', async () => {
  const ivy = await user('ivy');
  const jon = await user('jon');
  assert.equal((await pageApi(jon.page, 'POST', '/api/files/folder', { path: '/Saved' })).status, 201);
  const sent = await pageApi(ivy.page, 'POST', '/api/mail', {
    to: ['jon'], subject: 'the report', body: 'attached',
    attachments: [{ filename: 'report.txt', content_type: 'text/plain', data: Buffer.from('quarterly numbers').toString('base64') }],
  });
  assert.equal(sent.status, 201, sent.text);

  await openMail(jon.page);
  await jon.page.locator('#message-rows tr', { hasText: 'the report' }).click();
  await jon.page.getByRole('button', { name: 'Save report.txt to Drive' }).click();
  const picker = jon.page.getByRole('dialog', { name: 'Save report.txt to Drive' });
  await picker.getByRole('button', { name: 'Open folder Saved' }).click();
  await picker.getByText('No folders inside.').waitFor();
  await assertAccessible(jon.page, 'the folder picker');
  await shoot(jon.page, 'mail-save-to-drive');
  await picker.getByRole('button', { name: 'Save here' }).click();
  await jon.page.getByText('Saved to Drive as /Saved/report.txt.').waitFor();
  const file = await pageApi(jon.page, 'GET', '/api/files/content?path=%2FSaved%2Freport.txt');
  assert.equal(file.text, 'quarterly numbers');

  // Cancelling saves nothing.
  await jon.page.getByRole('button', { name: 'Save report.txt to Drive' }).click();
  await picker.getByRole('button', { name: 'Cancel' }).click();
  await picker.waitFor({ state: 'hidden' });
  const listing = await pageApi(jon.page, 'GET', '/api/files?path=%2FSaved');
  assert.deepEqual(listing.json.entries.map((e) => e.name), ['report.txt']);
  assert.deepEqual(jon.errors, []);
  await ivy.context.close();
  await jon.context.close();
});

test('Attach from Drive sends the files picked', async () => {
  const kim = await user('kim');
  const lou = await user('lou');
  assert.equal((await pageApi(kim.page, 'POST', '/api/files/folder', { path: '/Docs' })).status, 201);
  for (const [path, text] of [['/Docs/plan.txt', 'the plan'], ['/Docs/draft.txt', 'not this'], ['/top.txt', 'top level']]) {
    const res = await pageApi(kim.page, 'PUT', `/api/files/content?path=${encodeURIComponent(path)}`, text, true);
    assert.equal(res.status, 201, res.text);
  }

  await openMail(kim.page);
  await kim.page.getByRole('button', { name: 'Compose' }).click();
  await kim.page.getByLabel('To', { exact: true }).fill('lou');
  await kim.page.getByLabel('Subject').fill('files from my drive');
  await kim.page.getByRole('button', { name: 'Attach from Drive' }).click();
  const picker = kim.page.getByRole('dialog', { name: 'Attach from Drive' });
  await picker.getByLabel('top.txt').check();
  await picker.getByRole('button', { name: 'Open folder Docs' }).click();
  await picker.getByLabel('plan.txt').check();
  await picker.getByLabel('draft.txt').check();
  await assertAccessible(kim.page, 'the file picker');
  await shoot(kim.page, 'mail-attach-from-drive');
  await picker.getByRole('button', { name: 'Attach (3)' }).click();
  const chosen = kim.page.getByRole('list', { name: 'Files from Drive' });
  await chosen.getByText('draft.txt').waitFor();
  await kim.page.getByRole('button', { name: 'Remove draft.txt' }).click();
  await chosen.getByText('draft.txt').waitFor({ state: 'detached' });
  await kim.page.getByRole('button', { name: 'Send' }).click();
  await kim.page.getByText('Message sent.').waitFor();

  const inbox = await pageApi(lou.page, 'GET', '/api/mail?folder=inbox');
  const id = inbox.json.messages.find((m) => m.subject === 'files from my drive').id;
  const message = await pageApi(lou.page, 'GET', `/api/mail/${id}`);
  assert.deepEqual(message.json.attachments.map((a) => a.filename).sort(), ['plan.txt', 'top.txt']);
  for (const a of message.json.attachments) {
    const bytes = await pageApi(lou.page, 'GET', `/api/mail/${id}/attachments/${a.index}`);
    assert.equal(bytes.text, a.filename === 'plan.txt' ? 'the plan' : 'top level');
  }
  // The next message starts with nothing from the drive.
  await kim.page.getByRole('button', { name: 'Compose' }).click();
  assert.equal(await kim.page.locator('#compose-drive-files li').count(), 0);
  assert.deepEqual(kim.errors, []);
  await kim.context.close();
  await lou.context.close();
});

test('Attach from Drive reaches a file another account shared', async () => {
  const max = await user('max');
  const ned = await user('ned');
  assert.equal((await pageApi(max.page, 'POST', '/api/files/folder', { path: '/Team' })).status, 201);
  const put = await pageApi(max.page, 'PUT', `/api/files/content?path=${encodeURIComponent('/Team/brief.txt')}`, 'the brief', true);
  assert.equal(put.status, 201, put.text);
  const shared = await pageApi(max.page, 'POST', '/api/shares', { path: '/Team', user: 'ned', permission: 'read' });
  assert.equal(shared.status, 201, shared.text);

  await openMail(ned.page);
  await ned.page.getByRole('button', { name: 'Compose' }).click();
  await ned.page.getByLabel('To', { exact: true }).fill('max');
  await ned.page.getByLabel('Subject').fill('your brief');
  await ned.page.getByRole('button', { name: 'Attach from Drive' }).click();
  const picker = ned.page.getByRole('dialog', { name: 'Attach from Drive' });
  await picker.getByRole('button', { name: 'Open folder Shared with me' }).click();
  await picker.getByRole('button', { name: 'Open folder max' }).click();
  await picker.getByRole('button', { name: 'Open folder Team' }).click();
  await picker.getByLabel('brief.txt').check();
  await picker.getByRole('button', { name: 'Attach (1)' }).click();
  await ned.page.getByRole('list', { name: 'Files from Drive' }).getByText('brief.txt').waitFor();
  await ned.page.getByRole('button', { name: 'Send' }).click();
  await ned.page.getByText('Message sent.').waitFor();

  const inbox = await pageApi(max.page, 'GET', '/api/mail?folder=inbox');
  const id = inbox.json.messages.find((m) => m.subject === 'your brief').id;
  const message = await pageApi(max.page, 'GET', `/api/mail/${id}`);
  assert.deepEqual(message.json.attachments.map((a) => a.filename), ['brief.txt']);
  assert.equal((await pageApi(max.page, 'GET', `/api/mail/${id}/attachments/0`)).text, 'the brief');
  assert.deepEqual(ned.errors, []);
  await max.context.close();
  await ned.context.close();
});
