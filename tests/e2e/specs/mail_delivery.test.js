// Browser tests of the delivery timeline and the console's outbound queue on a real
// cluster (KVS group, coordinator, frontend, SMTP and POP3; the relay is off, so mail to
// other domains stays queued): Send shows an "Undo" toast for the account's window and
// Undo brings the message back to Drafts with nothing delivered; a send left alone is
// delivered when the window ends and its Sent view shows the timeline; an admin finds a
// queued message in the console and drops it after a confirmation, and the sender's
// timeline then says cancelled. Screenshots at desktop width and 390 px.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, logIn, openPage, signUp, startCluster } from '../cluster.js';
import { assertAccessible, pageApi, shoot } from '../page.js';

const ADMIN = { user: 'admin', password: 'admin-password-e2e' };
let cluster;
let browser;

before(async () => {
  cluster = await startCluster({ admin: ADMIN, mail: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});


const listing = async (page, folder) => (await pageApi(page, 'GET', `/api/mail?folder=${folder}`)).json.messages;

async function compose(page, to, subject) {
  await page.getByRole('button', { name: 'Compose' }).click();
  await page.getByLabel('To', { exact: true }).fill(to);
  await page.getByLabel('Subject', { exact: true }).fill(subject);
  await page.getByLabel('Message', { exact: true }).fill(`About ${subject}.`);
  await page.getByRole('button', { name: 'Send' }).click();
}

test('undo send, the delivery timeline, and dropping queued mail in the console', async () => {
  const alice = await openPage(browser);
  const bob = await openPage(browser);
  await signUp(bob.page, cluster, 'bob', 'password-bob');
  await signUp(alice.page, cluster, 'alice', 'password-alice');
  // The window is an account setting (its range is checked by mail_delivery_test).
  await alice.page.goto(cluster.url('/account'));
  await alice.page.locator('#undo-form[data-ready="true"]').waitFor();
  const seconds = alice.page.getByLabel('Hold sent mail for (seconds)');
  assert.equal(await seconds.inputValue(), '0');  // this cluster's frontends default to 0
  await seconds.fill('4');
  await alice.page.locator('#undo-save').click();
  await alice.page.locator('#undo-message', { hasText: 'Saved.' }).waitFor();
  assert.equal((await pageApi(alice.page, 'GET', '/api/account/undo-send')).json.seconds, 4);
  await alice.page.goto(cluster.url('/mail'));

  // Send, then Undo inside the window: the message is a draft again, bob gets nothing.
  await compose(alice.page, 'bob', 'Hasty');
  const toast = alice.page.locator('#undo-toast');
  await toast.getByRole('button', { name: 'Undo' }).waitFor();
  await shoot(alice.page, 'mail-undo-toast');
  await toast.getByRole('button', { name: 'Undo' }).click();
  await alice.page.getByText('Sending undone').waitFor();
  await alice.page.locator('#compose-title', { hasText: 'Draft' }).waitFor();
  assert.equal(await alice.page.getByLabel('Subject', { exact: true }).inputValue(), 'Hasty');
  assert.deepEqual((await listing(alice.page, 'drafts')).map((m) => m.subject), ['Hasty']);

  // Send it again and let the window pass: bob has it, and Sent shows the timeline.
  await alice.page.getByRole('button', { name: 'Send' }).click();
  await toast.getByRole('button', { name: 'Undo' }).waitFor();
  await toast.waitFor({ state: 'hidden', timeout: 15000 });
  await alice.page.locator('#message-rows tr', { hasText: 'Hasty' }).first().click();
  const panel = alice.page.locator('#delivery-panel');
  await panel.getByText('bob@penncloud.local').waitFor();
  await panel.locator('.badge', { hasText: 'Delivered' }).waitFor({ timeout: 15000 });
  assert.equal((await listing(bob.page, 'inbox')).filter((m) => m.subject === 'Hasty').length, 1);
  assert.deepEqual(await listing(alice.page, 'drafts'), []);
  await assertAccessible(alice.page, 'a sent message with its delivery timeline');
  await shoot(alice.page, 'mail-delivery-timeline');

  // The admin (who may write outside) sends to another domain: with no relay it waits in
  // the queue, and the console drops it after asking.
  const admin = await openPage(browser);
  await logIn(admin.page, cluster, ADMIN.user, ADMIN.password);
  await admin.page.waitForURL(cluster.url('/'));
  assert.equal((await pageApi(admin.page, 'PUT', '/api/account/undo-send', { seconds: 0 })).status, 200);
  await admin.page.goto(cluster.url('/mail'));
  await compose(admin.page, 'far@example.com', 'Overseas');
  await admin.page.getByText('Message sent.').waitFor();
  const sent = (await listing(admin.page, 'sent')).find((m) => m.subject === 'Overseas');
  const before = (await pageApi(admin.page, 'GET', `/api/mail/${sent.id}/delivery`)).json;
  assert.equal(before.recipients[0].state, 'queued');

  // A non-admin is refused by the server, whatever a page would show.
  assert.equal((await alice.page.request.get(cluster.url('/api/admin/queue'))).status(), 403);

  await admin.page.goto(cluster.url('/admin'));
  const row = admin.page.locator('#queue-body tr', { hasText: 'far@example.com' });
  await row.waitFor();
  await row.getByRole('button', { name: /^Drop/ }).click();
  const dialog = admin.page.locator('#confirm-modal');
  await dialog.getByText('Drop this message?').waitFor();
  await shoot(admin.page, 'admin-queue-drop');
  await dialog.locator('.modal-footer').getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await row.count(), 1, 'cancelled: still queued');
  await row.getByRole('button', { name: /^Drop/ }).click();
  await dialog.getByRole('button', { name: 'Drop' }).click();
  await admin.page.locator('#queue-body', { hasText: 'The queue is empty.' }).waitFor();
  await assertAccessible(admin.page, 'the console\'s queue', 'section[aria-labelledby="queue-title"]');
  const afterDrop = (await pageApi(admin.page, 'GET', `/api/mail/${sent.id}/delivery`)).json;
  assert.equal(afterDrop.recipients[0].state, 'cancelled');
  assert.match(afterDrop.recipients[0].reply, /dropped by an administrator/);
  for (const p of [alice, bob, admin]) assert.deepEqual(p.errors, []);
});
