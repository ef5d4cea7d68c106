// Browser tests of the admin console on a real sharded PennCloud (config group + two data
// groups, coordinator, frontend, SMTP, POP3): the admin sees every node; stopping a KVS
// leader from the page crashes it, the group elects a new leader while a normal user's
// webmail keeps working in another browser context, and starting it again shows it
// catching up; a normal user gets 403 on every admin URL; users are searched, disabled
// (after a confirmation: her session ends and her login is refused), enabled and made
// admin; raw data pages over more rows than one page holds; a cell holding HTML and script
// renders as inert text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  clusterKvsctl, kvsctl, launchBrowser, logIn, openPage, signUp, startCluster,
} from '../cluster.js';
import { shoot } from '../page.js';

const ADMIN = { user: 'admin', password: 'admin-password-e2e' };
const ROWS = 30;  // admin-e2e-row-00..29, over two groups: more than a page of 10 in total
const XSS_ROW = '<img src=x onerror="window.__xss=1">';
const XSS_COLUMN = '<b>col</b>';
const XSS_VALUE = '<script>window.__xss=2</script><img src=x onerror="window.__xss=3">';
const BINARY_VALUE = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x41]);

let cluster;
let browser;
let admin;  // {page, context, errors} of the admin's console

before(async () => {
  cluster = await startCluster({ groups: 2, admin: ADMIN, mail: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


const newContext = () => openPage(browser);

function expectedNodeIds() {
  const ids = ['coordinator', `frontend-${cluster.frontendPorts[0]}`, `smtp-${cluster.smtpPort}`,
               `pop3-${cluster.pop3Port}`];
  for (const g of ['config', 'g1', 'g2']) for (let r = 1; r <= 3; r++) ids.push(`kvs-${g}-${r}`);
  return ids;
}

const nodeRow = (page, id) => page.locator(`#node-rows tr[data-node-id="${id}"]`);

async function overview(page) {
  const res = await page.request.get(cluster.url('/api/admin/overview'));
  assert.equal(res.status(), 200);
  return res.json();
}

test('an admin logs in and sees every node of every tier, leaders marked', async () => {
  admin = await newContext();
  const { page } = admin;
  await logIn(page, cluster, ADMIN.user, ADMIN.password);
  await page.waitForURL(cluster.url('/'));
  // The app's navigation links the console for an admin, and the link works.
  await page.locator('#pc-nav a[href="/admin"]', { hasText: 'Admin' }).waitFor();
  const res = await page.goto(cluster.url('/admin'));
  assert.equal(res.status(), 200);
  await page.getByRole('heading', { name: 'Admin console' }).waitFor();

  // Frontends, SMTP and POP3 appear with their first heartbeat, replicas with the poller.
  for (const id of expectedNodeIds()) {
    await page.locator(`#node-rows tr[data-node-id="${id}"][data-health="up"]`)
      .waitFor({ timeout: 30000 });
  }
  const addresses = new Map(cluster.records().map((r) => [r.name, r.address]));
  for (const id of expectedNodeIds()) {
    if (addresses.has(id)) {
      assert.equal(await nodeRow(page, id).locator('.admin-col-address').textContent(),
                   addresses.get(id), id);
    }
  }
  // Each KVS group: exactly one leader row, named by the groups table too.
  for (const [group, prefix] of [['config', 'kvs-config-'], ['1', 'kvs-g1-'], ['2', 'kvs-g2-']]) {
    const leaders = page.locator(`#node-rows tr[data-role="leader"][data-node-id^="${prefix}"]`);
    await leaders.first().waitFor();
    assert.equal(await leaders.count(), 1, `one leader in ${group}`);
    const leaderId = await leaders.getAttribute('data-node-id');
    assert.match(await leaders.locator('.admin-col-role').textContent(), /leader/);
    await page.locator(`#group-rows tr[data-group-id="${group}"]`, { hasText: leaderId }).waitFor();
  }
  // The coordinator cannot be stopped from its own console; KVS replicas can.
  assert.equal(await nodeRow(page, 'coordinator').getByRole('button', { name: /^Stop/ }).isVisible(),
               false);
  assert.ok(await nodeRow(page, 'kvs-g1-1').getByRole('button', { name: 'Stop kvs-g1-1' }).isVisible());
  // The strict CSP let every script run.
  assert.deepEqual(admin.errors, []);
});

test('stopping a KVS leader: a new leader, webmail keeps working; start: it catches up',
  async () => {
    const { page } = admin;
    // A normal user in a second browser context, with a first message in her inbox.
    const user = await newContext();
    await signUp(user.page, cluster, 'alice', 'password-alice');
    await user.page.goto(cluster.url('/mail'));
    const send = async (subject) => {
      await user.page.getByRole('button', { name: 'Compose' }).click();
      await user.page.getByLabel('To', { exact: true }).fill('alice');
      await user.page.getByLabel('Subject', { exact: true }).fill(subject);
      await user.page.getByLabel('Message', { exact: true }).fill(`body of ${subject}`);
      await user.page.getByRole('button', { name: 'Send' }).click();
      // Sent is listed only after the store took the message.
      await user.page.locator('#list-view:not(.d-none) #message-rows tr', { hasText: subject })
        .waitFor({ timeout: 20000 });
      // The page says so once it has listed the folder again, a moment after the row shows.
      await user.page.locator('#alert', { hasText: 'Message sent.' }).waitFor({ timeout: 5000 });
    };
    const read = async (subject) => {
      await user.page.locator('#folders [data-folder="inbox"]').click();
      await user.page.locator('#folder-title', { hasText: 'Inbox' }).waitFor();
      await user.page.locator('#message-rows tr', { hasText: subject }).first().click();
      await user.page.locator('#read-body', { hasText: `body of ${subject}` }).waitFor();
    };
    await send('before the crash');

    // Crash the leader of the group holding alice's mailbox index.
    const owns = (g) => {
      try {  // a group refuses rows it does not own (FAILED_PRECONDITION)
        kvsctl([`--group=${cluster.groupSpecs[g]}`, 'list', 'mail/alice', '--limit=1']);
        return true;
      } catch {
        return false;
      }
    };
    const group = owns('1') ? '1' : '2';
    assert.ok(owns(group), `group ${group} holds mail/alice`);
    const before = await overview(page);
    const oldLeader = before.groups.find((g) => g.id === group).leader;
    assert.ok(oldLeader, `group ${group} has a leader`);
    const oldPid = cluster.pidOf(oldLeader);
    assert.ok(oldPid);

    await nodeRow(page, oldLeader).getByRole('button', { name: `Stop ${oldLeader}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop', exact: true }).click();
    // The user keeps mailing while the group fails over.
    const mailing = (async () => {
      await send('during the failover');
      await read('during the failover');
    })();
    mailing.catch(() => {});  // awaited below; this only keeps an early failure "handled"

    await page.locator(`#node-rows tr[data-node-id="${oldLeader}"][data-health="stopped"]`)
      .waitFor({ timeout: 15000 });
    await page.locator('#activity', { hasText: `${oldLeader} is stopped` }).waitFor();
    assert.equal(cluster.pidOf(oldLeader), null, 'the process is gone (killed, not paused)');
    const newLeaderRow = page.locator(
      `#node-rows tr[data-role="leader"][data-node-id^="kvs-g${group}-"][data-health="up"]`);
    await newLeaderRow.waitFor({ timeout: 30000 });
    const newLeader = await newLeaderRow.getAttribute('data-node-id');
    assert.notEqual(newLeader, oldLeader);
    await page.locator('#activity', { hasText: `group ${group} elected a new leader: ${newLeader}` })
      .waitFor();
    await mailing;
    await send('after the election');
    await read('after the election');
    await read('before the crash');

    // Start it again: it comes back from disk and catches up with the leader's applied slot.
    const leaderApplied = (await overview(page)).nodes.find((n) => n.id === newLeader).applied_slot;
    await nodeRow(page, oldLeader).getByRole('button', { name: `Start ${oldLeader}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator(`#node-rows tr[data-node-id="${oldLeader}"][data-health="up"]`)
      .waitFor({ timeout: 30000 });
    await page.locator('#activity', { hasText: `${oldLeader} caught up with the leader` })
      .waitFor({ timeout: 30000 });
    const restarted = cluster.pidOf(oldLeader);
    assert.ok(restarted && restarted !== oldPid, 'a new process from the launch record');
    const back = (await overview(page)).nodes.find((n) => n.id === oldLeader);
    assert.ok(back.applied_slot >= leaderApplied,
              `applied ${back.applied_slot} reached the leader's ${leaderApplied}`);
    // No script error in webmail (its missing favicon's 404 is not one).
    assert.deepEqual(user.errors.filter((e) => !e.startsWith('Failed to load resource')), []);
    await user.context.close();
  });

test('a normal user gets 403 on every admin URL, page and API', async () => {
  const { page, context } = await newContext();
  await signUp(page, cluster, 'mallory', 'password-mallory');
  const who = await (await page.request.get(cluster.url('/api/me'))).json();
  const { csrf } = who;
  // No console link for her: the navigation is drawn, without it.
  assert.equal(who.admin, false);
  await page.locator('#pc-nav a[href="/mail"]').waitFor();
  assert.equal(await page.locator('#pc-nav a[href="/admin"]').count(), 0);
  const key = Buffer.from('acct/mallory').toString('base64');
  const urls = [
    ['GET', '/admin'], ['GET', '/admin/anything'], ['GET', '/api/admin/overview'],
    ['GET', '/api/admin/nodes'], ['GET', '/api/admin/history?seconds=60'],
    ['GET', '/api/admin/data/1/rows'],
    ['GET', `/api/admin/data/1/columns?row=${encodeURIComponent(key)}`],
    ['GET', `/api/admin/data/1/cell?row=${encodeURIComponent(key)}&column=${encodeURIComponent(key)}`],
    ['POST', '/api/admin/nodes/kvs-g1-1/stop'], ['POST', '/api/admin/nodes/kvs-g1-1/start'],
    ['POST', '/api/admin/groups/1/replicas'], ['DELETE', '/api/admin/groups/1/replicas/kvs-g1-1'],
    ['POST', '/api/admin/groups'], ['DELETE', '/api/admin/groups/2'],
    ['GET', '/api/admin/users'], ['POST', '/api/admin/users/mallory/admin'],
    ['POST', '/api/admin/users/admin/disabled'], ['POST', '/api/admin/users/admin/reset'],
    ['GET', '/api/admin/users/mallory/drive'], ['PUT', '/api/admin/users/mallory/drive'],
    ['GET', '/api/admin/signup'], ['PUT', '/api/admin/signup'], ['POST', '/api/admin/invites'],
    ['DELETE', `/api/admin/invites/${'0'.repeat(64)}`],
  ];
  for (const [method, path] of urls) {
    const res = await page.request.fetch(cluster.url(path), {
      method, headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
      data: method === 'GET' ? undefined : '{}',
    });
    assert.equal(res.status(), 403, `${method} ${path}`);
    assert.ok((await res.json()).error, `${method} ${path} explains`);
  }
  // The page itself, in the browser.
  const res = await page.goto(cluster.url('/admin'));
  assert.equal(res.status(), 403);
  // And nothing changed: every replica is still up.
  const nodes = (await overview(admin.page)).nodes;
  for (const id of expectedNodeIds()) {
    assert.equal(nodes.find((n) => n.id === id)?.health, 'up', id);
  }
  await context.close();
});

test('users: search, disable after confirming ends her session and login; enable', async () => {
  const user = await newContext();
  await signUp(user.page, cluster, 'userdemo', 'password-userdemo');
  const me = () => user.page.request.get(cluster.url('/api/me'));
  const login = () => user.page.request.post(cluster.url('/api/login'), {
    data: { username: 'userdemo', password: 'password-userdemo' },
  });
  assert.equal((await me()).status(), 200);

  const { page } = admin;
  await page.goto(cluster.url('/admin'));
  await page.getByLabel('Name starts with').fill('userd');
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator('#users-body[data-query="userd"] tr[data-user="userdemo"]');
  await row.waitFor();
  assert.equal(await page.locator('#users-body tr').count(), 1);
  await shoot(page, 'admin-users');

  // Cancelling the confirmation changes nothing.
  const modal = page.locator('#confirm-modal');
  await row.getByRole('button', { name: 'Disable' }).click();
  await modal.getByText('They are logged out everywhere').waitFor();
  await shoot(page, 'admin-users-confirm');
  await modal.locator('.modal-footer').getByRole('button', { name: 'Cancel' }).click();
  await modal.waitFor({ state: 'hidden' });
  assert.equal((await me()).status(), 200);

  await row.getByRole('button', { name: 'Disable' }).click();
  await page.locator('#confirm-ok').click();
  await row.locator('.badge', { hasText: 'disabled' }).waitFor();
  assert.equal((await me()).status(), 401, 'her session ended');
  const refused = await login();
  assert.equal(refused.status(), 403);
  assert.equal((await refused.json()).error, 'this account is disabled');

  await row.getByRole('button', { name: 'Enable' }).click();
  await row.getByRole('button', { name: 'Disable' }).waitFor();
  assert.equal((await login()).status(), 200);

  // Making her admin takes effect on her next request; removing it asks first.
  await row.getByRole('button', { name: 'Make admin' }).click();
  await page.locator('#confirm-ok').click();
  await row.locator('.badge', { hasText: 'admin' }).waitFor();
  assert.equal((await user.page.request.get(cluster.url('/api/admin/users'))).status(), 200);
  await row.getByRole('button', { name: 'Remove admin' }).click();
  await page.locator('#confirm-ok').click();
  await row.getByRole('button', { name: 'Make admin' }).waitFor();
  assert.equal((await user.page.request.get(cluster.url('/api/admin/users'))).status(), 403);
  await user.context.close();
});

// The rows the raw-data browser shows for `group`, page by page (10 a page), following
// Next until it is disabled; checks Previous shows the page before again.
// The pager's label reads "page N" once page N is shown ("loading…" while it loads).
const pageShown = (page, n) => page.locator('#rows-page', { hasText: new RegExp(`^page ${n}$`) })
  .waitFor();

async function showRows(page, group) {
  await page.getByLabel('Group', { exact: true }).selectOption(group);
  await page.getByLabel('Rows per page').selectOption('10');
  await page.getByRole('button', { name: 'Show rows' }).click();
  await pageShown(page, 1);
}

async function browseRows(page, group) {
  await showRows(page, group);
  const pages = [];
  for (let i = 1; i <= 40; i++) {
    if (i > 1) {
      await page.locator('#rows-next').click();
      await pageShown(page, i);
    }
    pages.push(await page.locator('#data-rows .admin-key').allTextContents());
    if (await page.locator('#rows-next').isDisabled()) break;
  }
  if (pages.length > 1) {
    await page.locator('#rows-prev').click();
    await pageShown(page, pages.length - 1);
    assert.deepEqual(await page.locator('#data-rows .admin-key').allTextContents(),
                     pages[pages.length - 2]);
  }
  return pages;
}

// Pages forward from the first page of `group` until the row `text` is shown.
async function findRow(page, group, text) {
  await showRows(page, group);
  for (let i = 1; i <= 40; i++) {
    if (await page.locator('#data-rows .admin-key', { hasText: text }).count()) return;
    await page.locator('#rows-next').click();
    await pageShown(page, i + 1);
  }
  throw new Error(`${text} not found in group ${group}`);
}

test('raw data: paging over more rows than a page; HTML and binary cells are inert', async () => {
  for (let i = 0; i < ROWS; i++) {
    clusterKvsctl(cluster, ['put', `admin-e2e-row-${String(i).padStart(2, '0')}`, 'c', `value ${i}`]);
  }
  clusterKvsctl(cluster, ['put', XSS_ROW, XSS_COLUMN, XSS_VALUE]);
  clusterKvsctl(cluster, ['put', XSS_ROW, 'binary', '-'], BINARY_VALUE);

  const { page } = admin;
  await page.reload();
  await page.getByLabel('Group', { exact: true }).locator('option[value="2"]').waitFor({ state: 'attached' });
  const seen = new Map();  // row text -> group
  let longest = 0;
  for (const group of ['1', '2']) {
    const pages = await browseRows(page, group);
    longest = Math.max(longest, pages.length);
    for (const p of pages) {
      assert.ok(p.length <= 10, `a page holds at most 10 rows, got ${p.length}`);
      for (const text of p) {
        assert.ok(!seen.has(text), `${text} shown once (group ${group}, before ${seen.get(text)})`);
        seen.set(text, group);
      }
    }
  }
  assert.ok(longest > 1, 'some group needed more than one page');
  for (let i = 0; i < ROWS; i++) {
    assert.ok(seen.has(`admin-e2e-row-${String(i).padStart(2, '0')}`), `row ${i} was listed`);
  }

  // The hostile row, its columns and its cell render as text; nothing runs or loads.
  const xssGroup = seen.get(XSS_ROW);
  assert.ok(xssGroup, 'the HTML row was listed as text');
  await findRow(page, xssGroup, XSS_ROW);
  await page.locator('#data-rows .admin-key', { hasText: XSS_ROW }).click();
  await page.locator('#data-columns .admin-key', { hasText: XSS_COLUMN }).click();
  await page.locator('#cell-content', { hasText: 'window.__xss=2' }).waitFor();
  assert.equal(await page.locator('#cell-content').textContent(), XSS_VALUE);
  assert.match(await page.locator('#cell-size').textContent(), new RegExp(`\\(${Buffer.byteLength(XSS_VALUE)} bytes\\)`));
  await page.getByRole('button', { name: 'Hex', exact: true }).click();
  assert.equal(await page.locator('#cell-content').textContent(),
               Buffer.from(XSS_VALUE).toString('hex').replace(/(..)/g, '$1 ').trim());

  await page.locator('#data-columns .admin-key', { hasText: 'binary' }).click();
  await page.locator('#cell-size', { hasText: '(5 bytes)' }).waitFor();
  assert.equal(await page.locator('#cell-content').textContent(), '00 ff 10 80 41');

  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('#admin img, #admin script, #admin b').count(), 0);
  assert.deepEqual(admin.errors, []);
});

// Clicks a console action and confirms it; returns the error alert's text if the server
// refused (null when it accepted). The action's own request (the console polls with GETs
// only) decides which: its answer is waited for, not a fixed time.
async function confirmed(page, button, confirmLabel) {
  await button.click();
  const answered = page.waitForResponse(
    (r) => r.url().includes('/api/admin/') && r.request().method() !== 'GET', { timeout: 60000 });
  await page.getByRole('dialog').getByRole('button', { name: confirmLabel, exact: true }).click();
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  const response = await answered;
  if (response.ok()) return null;
  const alert = page.locator('#alert');
  await alert.waitFor({ state: 'visible' });
  return alert.textContent();
}

test('membership: add a replica, see it catch up, remove it', async () => {
  const { page } = admin;
  const members = async (group) =>
    (await overview(page)).groups.find((g) => g.id === group)?.members ?? [];
  const before = await members('2');

  const refused = await confirmed(page, page.getByRole('button', { name: 'Add a replica to group 2' }),
                                  'Add replica');
  assert.equal(refused, null);
  // The new replica appears, joins the group and catches up with its leader.
  let added = null;
  for (let i = 0; i < 60 && !added; i++) {
    added = (await members('2')).find((id) => !before.includes(id)) ?? null;
    if (!added) await sleep(500);
  }
  assert.ok(added, 'a new member of group 2');
  await page.locator(`#node-rows tr[data-node-id="${added}"][data-health="up"]`)
    .waitFor({ timeout: 30000 });
  await page.locator('#activity', { hasText: `${added} caught up with the leader` })
    .waitFor({ timeout: 30000 });

  // Removing it takes it out of the group.
  assert.equal(await confirmed(page, page.getByRole('button', { name: `Remove ${added}` }), 'Remove'),
               null);
  for (let i = 0; i < 60 && (await members('2')).includes(added); i++) await sleep(500);
  assert.ok(!(await members('2')).includes(added), `${added} left group 2`);
  await page.locator(`#group-rows tr[data-group-id="2"]`, { hasText: added }).waitFor({ state: 'detached' });

});

test('membership: add a group, rebalance to the end, remove it; no row lost', async () => {
  const { page } = admin;
  // A new group: it appears, the rebalance runs to its end, and it can be removed again.
  const refused = await confirmed(page, page.locator('#add-group'), 'Add group');
  assert.equal(refused, null);
  const newGroup = page.locator('#group-rows tr[data-group-id="3"]');
  await newGroup.waitFor({ timeout: 30000 });
  await page.locator('#rebalance-text', { hasText: 'No rebalance running.' }).waitFor({ timeout: 60000 });
  for (let r = 1; r <= 3; r++) {
    await page.locator(`#node-rows tr[data-node-id^="kvs-g3-"][data-health="up"]`).nth(r - 1)
      .waitFor({ timeout: 30000 });
  }
  assert.equal(await confirmed(page, page.getByRole('button', { name: 'Remove group 3' }),
                               'Remove group'), null);
  await newGroup.waitFor({ state: 'detached', timeout: 60000 });
  await page.locator('#activity', { hasText: 'group 3 left the map' }).waitFor();
  // Every row written earlier is still listed (no data lost by the moves).
  const seen = new Set();
  for (const group of ['1', '2']) for (const p of await browseRows(page, group)) p.forEach((x) => seen.add(x));
  for (let i = 0; i < ROWS; i++) {
    assert.ok(seen.has(`admin-e2e-row-${String(i).padStart(2, '0')}`), `row ${i} after the moves`);
  }
});
