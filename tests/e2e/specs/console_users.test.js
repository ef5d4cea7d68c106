// Browser tests of the console's user tools on a real PennCloud: the admin makes a one-time
// password-reset link (after a confirmation that says app passwords stay), the user opens it
// in another browser, sets a new password and is logged out of the old session; the link
// then refuses a second use. The admin lowers a user's drive quota in its dialog, and the
// list shows it. The reset page and the console's users card have no serious or critical
// axe findings.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  launchBrowser, logIn, openPage, signUp, startCluster,
} from '../cluster.js';
import { assertAccessible, shoot } from '../page.js';

const ADMIN = { user: 'admin', password: 'admin-password-e2e' };
let cluster;
let browser;

before(async () => {
  cluster = await startCluster({ admin: ADMIN });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function findUser(page, name) {
  await page.goto(cluster.url('/admin'));
  await page.getByLabel('Name starts with').fill(name);
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator(`#users-body[data-query="${name}"] tr[data-user="${name}"]`);
  await row.waitFor();
  return row;
}

test('a reset link made in the console sets a new password once and ends old sessions', async () => {
  const user = await openPage(browser);
  await signUp(user.page, cluster, 'resetdemo', 'old-password-1');
  const me = () => user.page.request.get(cluster.url('/api/me'));
  assert.equal((await me()).status(), 200);

  const admin = await openPage(browser);
  await logIn(admin.page, cluster, ADMIN.user, ADMIN.password);
  await admin.page.waitForURL(cluster.url('/'));
  const row = await findUser(admin.page, 'resetdemo');
  await row.getByRole('button', { name: 'Reset password' }).click();
  const dialog = admin.page.getByRole('dialog', { name: 'Make a password-reset link for resetdemo?' });
  await dialog.getByText('app passwords (mail clients) keep working').waitFor();
  await shoot(admin.page, 'admin-reset-confirm');
  await dialog.getByRole('button', { name: 'Make link' }).click();
  await admin.page.locator('#reset-new').waitFor();
  const link = await admin.page.locator('#reset-url').inputValue();
  assert.match(link, /\/reset\?token=[A-Za-z0-9_-]{43}$/);
  // The users card (the console's raw-data lists have findings of their own).
  await assertAccessible(admin.page, 'console users', 'section[aria-labelledby="users-title"]');

  // The user, in another browser, opens the link.
  const other = await openPage(browser);
  await other.page.goto(link);
  await other.page.getByText('For the account resetdemo').waitFor();
  assert.equal(new URL(other.page.url()).search, '', 'the token leaves the address bar');
  await other.page.getByText('App passwords you made for mail clients keep working').waitFor();
  await assertAccessible(other.page, 'reset page');
  await shoot(other.page, 'reset-page');
  await other.page.getByLabel('New password', { exact: true }).fill('short');
  await other.page.getByLabel('Repeat new password').fill('short');
  await other.page.getByRole('button', { name: 'Set new password' }).click();
  await other.page.getByText('Your password must be at least 8 characters.').waitFor();
  await other.page.getByLabel('New password', { exact: true }).fill('new-password-22');
  await other.page.getByLabel('Repeat new password').fill('new-password-22');
  await other.page.getByRole('button', { name: 'Set new password' }).click();
  await other.page.getByText('The password of resetdemo is set').waitFor();

  assert.equal((await me()).status(), 401, 'the old session ended');
  await logIn(user.page, cluster, 'resetdemo', 'new-password-22');
  await user.page.waitForURL(cluster.url('/'));

  // A second use of the link is refused.
  const again = await openPage(browser);
  await again.page.goto(link);
  await again.page.getByText('This reset link is not valid').waitFor();
  for (const p of [user, admin, other, again]) {
    assert.deepEqual(p.errors.filter((e) => !e.includes('404') && !e.includes('401')), []);
    await p.context.close();
  }
});

test('the admin lowers a drive quota in its dialog; the list shows it', async () => {
  const user = await openPage(browser);
  await signUp(user.page, cluster, 'quotademo', 'quota-password-1');
  await user.context.close();
  const admin = await openPage(browser);
  await logIn(admin.page, cluster, ADMIN.user, ADMIN.password);
  await admin.page.waitForURL(cluster.url('/'));
  const row = await findUser(admin.page, 'quotademo');
  await row.getByText('0 B of 10 GiB').waitFor();
  await row.getByRole('button', { name: 'Quota…' }).click();
  const dialog = admin.page.getByRole('dialog', { name: 'Drive quota of quotademo' });
  await dialog.getByLabel('Quota in GiB').fill('0.5');
  await shoot(admin.page, 'admin-quota');
  await dialog.getByRole('button', { name: 'Save quota' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await row.getByText('0 B of 512 MiB').waitFor();
  const res = await admin.page.request.get(cluster.url('/api/admin/users/quotademo/drive'));
  assert.equal((await res.json()).quota, 512 * 1024 * 1024);
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});
