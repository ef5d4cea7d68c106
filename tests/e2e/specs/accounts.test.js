// Browser tests of the accounts pages: sign up, log in, wrong password, log out, change
// password, through the coordinator like a real user.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, logIn, openPage, signUp, startCluster } from '../cluster.js';

let cluster;
let browser;

before(async () => {
  cluster = await startCluster({ frontends: 2 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

const freshPage = () => openPage(browser);

test('sign up lands on the home page with the user name', async () => {
  const { page, context, errors } = await freshPage();
  await signUp(page, cluster, 'ada', 'password-ada');
  await page.getByText('Welcome, ada').waitFor();
  assert.equal(await page.locator('#welcome-email').textContent(), 'ada@penncloud.local');
  assert.equal(await page.locator('#pc-user').textContent(), 'ada');
  // Navigation to Mail and Drive is there.
  assert.ok(await page.getByRole('link', { name: 'Mail', exact: true }).isVisible());
  assert.ok(await page.getByRole('link', { name: 'Drive', exact: true }).isVisible());
  // The session cookie is HttpOnly and SameSite=Strict.
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'pc_session');
  assert.ok(cookie, 'no session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  // The strict CSP let every script run: no console errors.
  assert.deepEqual(errors, []);
  await context.close();
});

test('a taken username gets a clear message', async () => {
  const { page, context } = await freshPage();
  await signUp(page, cluster, 'grace', 'password-grace');
  const second = await browser.newContext();
  const p2 = await second.newPage();
  await p2.goto(cluster.url('/signup'));
  await p2.getByLabel('Username').fill('grace');
  await p2.getByLabel('Password', { exact: true }).fill('another-password');
  await p2.getByLabel('Repeat password').fill('another-password');
  await p2.getByRole('button', { name: 'Sign up' }).click();
  await p2.getByRole('alert').getByText('That username is taken').waitFor();
  await second.close();
  await context.close();
});

test('wrong password shows an error and keeps the user on the login page', async () => {
  const { page, context } = await freshPage();
  await signUp(page, cluster, 'linus', 'password-linus');
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await logIn(p2, cluster, 'linus', 'not-the-password');
  await p2.getByRole('alert').getByText('Wrong username or password.').waitFor();
  assert.ok(p2.url().startsWith(cluster.url('/login')));
  // And the right one works.
  await p2.getByLabel('Password').fill('password-linus');
  await p2.getByRole('button', { name: 'Log in' }).click();
  await p2.waitForURL(cluster.url('/'));
  await p2.getByText('Welcome, linus').waitFor();
  await other.close();
  await context.close();
});

test('log out ends the session; protected pages send you to login', async () => {
  const { page, context } = await freshPage();
  await signUp(page, cluster, 'barbara', 'password-barbara');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login/);
  await page.goto(cluster.url('/'));
  await page.waitForURL(/\/login\?next=/);
  const res = await page.request.get(cluster.url('/api/me'));
  assert.equal(res.status(), 401);
  await context.close();
});

test('change password: old password stops working, new one works', async () => {
  const { page, context } = await freshPage();
  await signUp(page, cluster, 'edsger', 'password-old1');
  await page.goto(cluster.url('/account'));
  await page.getByLabel('Current password').fill('wrong-current');
  await page.getByLabel('New password', { exact: true }).fill('password-new1');
  await page.getByLabel('Repeat new password').fill('password-new1');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('alert').getByText('current password is wrong').waitFor();

  await page.getByLabel('Current password').fill('password-old1');
  await page.getByLabel('New password', { exact: true }).fill('password-new1');
  await page.getByLabel('Repeat new password').fill('password-new1');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('alert').getByText('Your password was changed').waitFor();

  const other = await browser.newContext();
  const p2 = await other.newPage();
  await logIn(p2, cluster, 'edsger', 'password-old1');
  await p2.getByRole('alert').getByText('Wrong username or password.').waitFor();
  await logIn(p2, cluster, 'edsger', 'password-new1');
  await p2.waitForURL(cluster.url('/'));
  await other.close();
  await context.close();
});
