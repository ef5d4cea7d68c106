// Browser tests of the web edges: the login page's ?next= never leaves the site, the
// admin's sign-up policy (invite-only with a link made in the console, closed) is what a
// visitor of the sign-up page meets, and a change a page asks for says, in the cluster's
// time, when the page stops waiting for it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, logIn, openPage, signUp, startCluster } from '../cluster.js';
import { until } from '../page.js';

const ADMIN = { user: 'admin', password: 'admin-password-edges' };

let cluster;
let browser;

before(async () => {
  cluster = await startCluster({ frontends: 1, admin: ADMIN });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

test('login ?next= only leads to paths on this site', async () => {
  const { page, context } = await openPage(browser);
  await signUp(page, cluster, 'nextuser', 'password-next');
  await context.close();
  const origin = new URL(cluster.url('/')).origin;
  // Each of these once sent the browser to evil.example after a successful login: the
  // URL parser reads a backslash as a slash, and drops tabs and newlines.
  // Each is the query as an attacker would write it (the page reads %5c as a backslash).
  for (const next of [encodeURIComponent('/\\evil.example'), '/%5cevil.example',
    '/%5Cevil.example', '//evil.example', encodeURIComponent('/\t/evil.example'),
    encodeURIComponent('https://evil.example/'), encodeURIComponent('/\\/evil.example')]) {
    const { page: p, context: c } = await openPage(browser, { consoleErrors: false });
    await p.goto(cluster.url(`/login?next=${next}`));
    await p.getByLabel('Username').fill('nextuser');
    await p.getByLabel('Password').fill('password-next');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.waitForURL((url) => url.pathname === '/' || url.origin !== origin, { timeout: 10000 })
      .catch(() => {});
    assert.equal(new URL(p.url()).origin, origin, `next=${JSON.stringify(next)} left the site`);
    assert.equal(new URL(p.url()).pathname, '/', `next=${JSON.stringify(next)}`);
    await c.close();
  }
  // A path on this site is still honoured, query included.
  const { page: p, context: c } = await openPage(browser);
  await p.goto(cluster.url(`/login?next=${encodeURIComponent('/account?tab=1')}`));
  await p.getByLabel('Username').fill('nextuser');
  await p.getByLabel('Password').fill('password-next');
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.waitForURL(cluster.url('/account?tab=1'));
  await c.close();
});

test('the admin makes sign-up invite-only; an invite link works once', async () => {
  // The console's other panels may log errors on this small cluster; not this test's concern.
  const { page: admin, context: adminContext } = await openPage(browser, { consoleErrors: false });
  await logIn(admin, cluster, ADMIN.user, ADMIN.password);
  await admin.waitForURL(cluster.url('/'));
  await admin.goto(cluster.url('/admin'));
  await admin.getByLabel('Who may create an account').selectOption('invite');
  await admin.locator('#signup-save').click();
  await admin.getByText('Sign-up is now invite.').waitFor();

  // Without an invite the page says so and offers no form.
  const { page: visitor, context: visitorContext } = await openPage(browser);
  await visitor.goto(cluster.url('/signup'));
  await visitor.getByText('Sign-up is by invitation').waitFor();
  assert.equal(await visitor.locator('#signup-form').isVisible(), false);
  await visitorContext.close();

  await admin.getByRole('button', { name: 'Create invite link' }).click();
  await until(admin, () => document.getElementById('invite-url').value.includes('invite='));
  const link = await admin.locator('#invite-url').inputValue();
  assert.match(link, /\/signup\?invite=[A-Za-z0-9_-]{40,}/);
  await admin.locator('#invite-list').getByText(`Made by ${ADMIN.user}`).waitFor();

  const { page: invited, context: invitedContext } = await openPage(browser);
  await invited.goto(link);
  await invited.getByLabel('Username').fill('invitee');
  await invited.getByLabel('Password', { exact: true }).fill('password-invitee');
  await invited.getByLabel('Repeat password').fill('password-invitee');
  await invited.getByRole('button', { name: 'Sign up' }).click();
  await invited.waitForURL(cluster.url('/'));
  await invited.getByText('Welcome, invitee').waitFor();
  await invitedContext.close();

  // The link is used up.
  const { page: again, context: againContext } = await openPage(browser, { consoleErrors: false });
  await again.goto(link);
  await again.getByLabel('Username').fill('second');
  await again.getByLabel('Password', { exact: true }).fill('password-second');
  await again.getByLabel('Repeat password').fill('password-second');
  await again.getByRole('button', { name: 'Sign up' }).click();
  await again.getByRole('alert').getByText('invite link is not valid').waitFor();
  await againContext.close();

  // Closed: nobody signs up, not even through the API.
  await admin.reload();
  await admin.getByLabel('Who may create an account').selectOption('closed');
  await admin.locator('#signup-save').click();
  await admin.getByText('Sign-up is now closed.').waitFor();
  const res = await admin.request.post(cluster.url('/api/signup'), {
    data: { username: 'sneaky', password: 'password-sneaky' },
  });
  assert.equal(res.status(), 403);
  assert.match((await res.json()).error, /closed/);
  await admin.getByLabel('Who may create an account').selectOption('open');
  await admin.locator('#signup-save').click();
  await admin.getByText('Sign-up is now open.').waitFor();
  await adminContext.close();
});

test('a change the page asks for carries its deadline by the cluster\'s clock', async () => {
  const { page, context } = await openPage(browser);
  // This computer's clock is an hour fast; the page must take the time from the cluster.
  await page.addInitScript(() => {
    const real = Date.now;
    Date.now = () => real() + 3600 * 1000;
  });
  await signUp(page, cluster, 'clockuser', 'password-clock');
  const sent = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/api/files/folder')) sent.push(req.headers());
  });
  const before = Date.now();
  const answer = await page.evaluate(async () => {
    const { api, me } = await import('/static/api.js');
    await me();
    await api('POST', '/api/files/folder', { path: '/dated' });
    const res = await fetch('/api/me');
    return { date: res.headers.get('Date') };
  });
  const after = Date.now();
  assert.match(answer.date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]['x-penncloud-timeout-ms'], '50000');
  const deadline = Number(sent[0]['x-penncloud-deadline-ms']);
  // Never later than the page gives up (50 s after it sent, by the cluster's clock, which is
  // this machine's), and early by at most the Date field's second plus a round trip.
  assert.ok(deadline <= after + 50000, `deadline ${deadline - after} ms after the answer`);
  assert.ok(deadline >= before + 50000 - 3000, `deadline ${deadline - before} ms after the send`);
  await context.close();
});
