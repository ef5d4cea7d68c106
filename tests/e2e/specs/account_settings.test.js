// Browser tests of Account settings (issue 16): an app password made and revoked, two-step
// sign-in turned on with a code computed here from the key the page shows, and a login that
// asks for the code; the sessions list marks the current one.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { launchBrowser, logIn, openPage, signUp, startCluster } from '../cluster.js';
import { until } from '../page.js';

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

// RFC 6238 with the defaults authenticator apps use: HMAC-SHA1, 30 s steps, 6 digits.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, stepsFromNow = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + stepsFromNow));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// The text of `selector` once the page has filled it in (it is empty until the API answers).
async function shownText(page, selector) {
  await until(page, (s) => document.querySelector(s)?.textContent !== '', selector);
  return page.locator(selector).textContent();
}

test('app password: made once, listed, revoked', async () => {
  const { page, context, errors } = await openPage(browser);
  await signUp(page, cluster, 'hedy', 'password-hedy');
  await page.goto(cluster.url('/account'));
  await page.getByPlaceholder('Device name').fill('Phone mail');
  await page.getByRole('button', { name: 'Create' }).click();
  const secret = await shownText(page, '#app-secret');
  assert.match(secret, /^([a-z2-7]{4}-){7}[a-z2-7]{4}$/);
  const row = page.locator('#app-list tr', { hasText: 'Phone mail' });
  await row.waitFor();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('Revoked “Phone mail”.').waitFor();
  await row.waitFor({ state: 'detached' });  // the list is redrawn after the message
  assert.equal(await page.locator('#app-list tr').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('two-step sign-in: turned on with a code, then asked for at login', async () => {
  const { page, context, errors } = await openPage(browser);
  await signUp(page, cluster, 'alan', 'password-alan');
  await page.goto(cluster.url('/account'));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const key = await shownText(page, '#tfa-secret');
  assert.ok(await page.locator('#tfa-qr').isVisible());
  await page.getByLabel('Code', { exact: true }).fill(totp(key));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Two-step sign-in is on.').waitFor();
  assert.equal(await page.locator('#tfa-codes li').count(), 10);
  // The sessions list marks this one.
  await page.locator('#sessions-list tr', { hasText: '(this one)' }).waitFor();
  assert.deepEqual(errors, []);

  const other = await openPage(browser);
  await logIn(other.page, cluster, 'alan', 'password-alan');
  await other.page.getByLabel('Code').waitFor();
  await other.page.getByLabel('Code').fill(totp(key, 1));
  await other.page.getByRole('button', { name: 'Verify' }).click();
  await other.page.waitForURL(cluster.url('/'));
  await other.page.getByText('Welcome, alan').waitFor();
  assert.deepEqual(other.errors, []);
  await other.context.close();
  await context.close();
});
