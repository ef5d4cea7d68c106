// Browser tests of the console's user tools on a real PennCloud: the admin makes a one-time
// password-reset link (after a confirmation that says app passwords stay), the user opens it
// in another browser, sets a new password and is logged out of the old session; the link
// then refuses a second use. The admin lowers a user's drive quota in its dialog, and the
// list shows it. The admin creates an account with the console's form: mistakes are named
// beside their fields before anything is sent, a cancelled confirmation creates nothing, a
// taken name shows the server's refusal, and the new user then logs in. The reset page and
// the console's users card have no serious or critical axe findings.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  launchBrowser, logIn, openPage, signUp, startCluster,
} from '../cluster.js';
import { assertAccessible, shoot, until } from '../page.js';

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

test('the admin creates a user with the form; she logs in with the password set there', async () => {
  const admin = await openPage(browser);
  const { page } = admin;
  await logIn(page, cluster, ADMIN.user, ADMIN.password);
  await page.waitForURL(cluster.url('/'));
  await page.goto(cluster.url('/admin'));
  const form = page.locator('#newuser-form');
  const name = form.getByLabel('New username');
  const password = form.getByLabel('Initial password');
  const create = form.getByRole('button', { name: 'Create user' });
  const lookUp = async (user) => {
    const res = await page.request.get(cluster.url(`/api/admin/users?q=${user}`));
    return (await res.json()).users.map((u) => u.username);
  };

  // The page's own checks name each mistake beside its field and send nothing.
  await name.fill('9lives');
  await password.fill('short');
  await create.click();
  await form.getByText('A username starts with a letter.').waitFor();
  await form.getByText('The password must be at least 8 characters.').waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'create-user form with errors', 'section[aria-labelledby="users-title"]');
  await shoot(page, 'admin-newuser-invalid');
  await name.fill('New.Hire');
  await until(page, () => document.getElementById('newuser-name-error').textContent === '');
  assert.equal(await name.getAttribute('aria-invalid'), 'false');
  await password.fill('hire-password-1');

  // Cancelling the confirmation creates nothing.
  await create.click();
  let dialog = page.getByRole('dialog', { name: 'Create the account new.hire?' });
  await dialog.getByText('They can log in at once').waitFor();
  await shoot(page, 'admin-newuser-confirm');
  await dialog.getByRole('button', { name: 'Cancel' }).first().click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(await lookUp('new.hire'), []);

  // Confirmed: the account exists and the list shows it.
  await create.click();
  dialog = page.getByRole('dialog', { name: 'Create the account new.hire?' });
  await dialog.getByRole('button', { name: 'Create user' }).click();
  await page.locator('#newuser-alert').getByText('Created new.hire.').waitFor();
  await page.locator('#users-body[data-query="new.hire"] tr[data-user="new.hire"]').waitFor();
  assert.equal(await name.inputValue(), '', 'the form is cleared');
  assert.deepEqual(await lookUp('new.hire'), ['new.hire']);

  // The server's refusal of a taken name shows, with its reason.
  await name.fill('new.hire');
  await password.fill('another-password');
  await create.click();
  dialog = page.getByRole('dialog', { name: 'Create the account new.hire?' });
  await dialog.getByRole('button', { name: 'Create user' }).click();
  await page.locator('#newuser-alert').getByText('Not created: username is taken').waitFor();
  await shoot(page, 'admin-newuser-taken');

  const hire = await openPage(browser);
  await logIn(hire.page, cluster, 'new.hire', 'hire-password-1');
  await hire.page.waitForURL(cluster.url('/'));
  const me = await (await hire.page.request.get(cluster.url('/api/me'))).json();
  assert.equal(me.username, 'new.hire');
  assert.deepEqual(admin.errors.filter((e) => !e.includes('409')), []);
  await hire.context.close();
  await admin.context.close();
});
