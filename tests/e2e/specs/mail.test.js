// Browser tests of webmail: compose, read, reply, forward, attachment round trip, delete;
// and a hostile HTML mail (delivered by our real SMTP server) that must neither run script
// nor fetch anything until the reader asks for images.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, openPage, signUp, startCluster } from '../cluster.js';

let cluster;
let browser;
let smtpPort;
let pop3Port;

before(async () => {
  cluster = await startCluster({ frontends: 1 });
  smtpPort = await freePort();
  cluster.launch('smtp', 'smtp', [
    `--port=${smtpPort}`, `--kvs=${cluster.kvsSpec}`, `--state_dir=${cluster.dir}`, '--relay=false',
  ]);
  pop3Port = await freePort();
  cluster.launch('pop3', 'pop3', [
    `--port=${pop3Port}`, `--kvs=${cluster.kvsSpec}`, `--state_dir=${cluster.dir}`,
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

// A minimal SMTP client: one message, each command waiting for its reply.
function smtpSend(port, from, to, data) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const steps = [`EHLO e2e.test`, `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA',
                   data.replace(/\n/g, '\r\n') + '\r\n.', 'QUIT'];
    let buffer = '';
    const replies = [];
    socket.setTimeout(10000, () => reject(new Error('smtp timeout')));
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue;
        replies.push(line);
        const next = steps.shift();
        if (next === undefined) {
          socket.end();
          resolve(replies);
          return;
        }
        socket.write(next + '\r\n');
      }
    });
    socket.on('error', reject);
  });
}

async function waitForSmtp() {
  for (let i = 0; i < 100; i++) {
    try {
      await smtpSend(smtpPort, 'probe@example.com', 'nobody@penncloud.local', 'x');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('smtp did not start');
}

async function newUser(name) {
  const { page, context, errors } = await openPage(browser, {
    contextOptions: { acceptDownloads: true },
    consoleErrors: false,
  });
  await signUp(page, cluster, name, `password-${name}`);
  await page.goto(cluster.url('/mail'));
  await page.locator('#folder-title').waitFor();
  return { page, context, errors };
}

async function composeTo(page, { to, cc = '', subject, body, file }) {
  await page.getByRole('button', { name: 'Compose' }).click();
  await page.getByLabel('To', { exact: true }).fill(to);
  if (cc) await page.getByLabel('Cc', { exact: true }).fill(cc);
  await page.getByLabel('Subject', { exact: true }).fill(subject);
  await page.getByLabel('Message', { exact: true }).fill(body);
  if (file) await page.getByLabel('Attach files').setInputFiles(file);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Message sent.').waitFor();
}

async function openInbox(page) {
  await page.locator('#folders [data-folder="inbox"]').click();
  await page.locator('#folder-title', { hasText: 'Inbox' }).waitFor();
}

test('compose, read, reply, reply all, forward with an attachment, delete', async () => {
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  const carol = await newUser('carol');
  const payload = Buffer.from([0, 1, 2, 255, 10, 46, 13, 10, 0x41]);
  await composeTo(alice.page, {
    to: 'bob', cc: 'carol@penncloud.local', subject: 'Plans', body: 'Lunch at noon?',
    file: { name: 'menu.bin', mimeType: 'application/octet-stream', buffer: payload },
  });
  // Sent shows it.
  assert.ok(await alice.page.locator('#message-rows tr', { hasText: 'Plans' }).isVisible());

  // Bob reads it: unread count, then the message, then the attachment downloads intact.
  await bob.page.reload();
  await bob.page.locator('#unread-inbox', { hasText: '1' }).waitFor();
  await bob.page.locator('#message-rows tr.unread', { hasText: 'Plans' }).click();
  await bob.page.locator('#read-body', { hasText: 'Lunch at noon?' }).waitFor();
  const [download] = await Promise.all([
    bob.page.waitForEvent('download'),
    bob.page.getByRole('link', { name: 'Download attachment menu.bin' }).click(),
  ]);
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  assert.deepEqual(Buffer.concat(chunks), payload);

  // Reply all goes to Alice with Carol in Cc.
  await bob.page.getByRole('button', { name: 'Reply all' }).click();
  assert.equal(await bob.page.getByLabel('To', { exact: true }).inputValue(), 'alice@penncloud.local');
  assert.match(await bob.page.getByLabel('Cc', { exact: true }).inputValue(), /carol@penncloud\.local/);
  assert.equal(await bob.page.getByLabel('Subject', { exact: true }).inputValue(), 'Re: Plans');
  // The same message, sent from webmail, arrives by POP3 (curl as the client).
  // STLS is required: the server refuses logins in clear.
  const pop = (path) => execFileSync('curl', ['-sS', '--max-time', '20', '--ssl-reqd', '-k',
    `pop3://bob:password-bob@127.0.0.1:${pop3Port}/${path}`]).toString();
  assert.match(pop(''), /^1 \d+/);
  const retrieved = pop('1');
  assert.match(retrieved, /Subject: Plans/);
  assert.match(retrieved, /Cc: carol@penncloud\.local/);
  assert.match(retrieved, /filename="?menu\.bin/);
  await bob.page.getByLabel('Message', { exact: true }).fill('Yes!');
  await bob.page.getByRole('button', { name: 'Send' }).click();
  await bob.page.getByText('Message sent.').waitFor();

  await openInbox(alice.page);
  await alice.page.locator('#message-rows tr', { hasText: 'Re: Plans' }).click();
  await alice.page.locator('#read-body', { hasText: 'Yes!' }).waitFor();
  // Alice replies (to Bob only) and forwards the original to Carol with its attachment.
  await alice.page.getByRole('button', { name: 'Reply', exact: true }).click();
  assert.equal(await alice.page.getByLabel('To', { exact: true }).inputValue(), 'bob@penncloud.local');
  assert.equal(await alice.page.getByLabel('Cc', { exact: true }).inputValue(), '');
  await alice.page.getByRole('button', { name: 'Discard' }).click();
  await alice.page.locator('#folders [data-folder="sent"]').click();
  await alice.page.locator('#message-rows tr', { hasText: 'Plans' }).first().click();
  await alice.page.getByRole('button', { name: 'Forward' }).click();
  await alice.page.getByLabel('To', { exact: true }).fill('carol');
  await alice.page.getByRole('button', { name: 'Send' }).click();
  await alice.page.getByText('Message sent.').waitFor();

  await carol.page.reload();
  await carol.page.locator('#message-rows tr', { hasText: 'Fwd: Plans' }).click();
  await carol.page.getByRole('link', { name: 'Download attachment menu.bin' }).waitFor();

  // Search by sender, then delete to Trash and for good.
  await carol.page.getByLabel('Search mail').fill('alice');
  await carol.page.getByRole('button', { name: 'Search' }).click();
  await carol.page.locator('#message-rows tr', { hasText: 'Fwd: Plans' }).click();
  await carol.page.getByRole('button', { name: 'Delete' }).click();
  await carol.page.getByText('Moved to Trash.').waitFor();
  await carol.page.locator('#folders [data-folder="trash"]').click();
  await carol.page.locator('#message-rows tr', { hasText: 'Fwd: Plans' }).click();
  await carol.page.getByRole('button', { name: 'Delete forever' }).click();
  await carol.page.getByText('Message deleted.').waitFor();
  assert.equal(await carol.page.locator('#message-rows tr', { hasText: 'Fwd: Plans' }).count(), 0);

  for (const u of [alice, bob, carol]) {
    assert.deepEqual(u.errors, []);
    await u.context.close();
  }
});

test('hostile HTML mail: no script runs, nothing is fetched until images are asked for', async () => {
  let hits = 0;
  const paths = [];
  const tracker = createServer((req, res) => {
    hits++;
    paths.push(req.url);
    res.writeHead(200, { 'Content-Type': 'image/gif' });
    res.end();
  });
  await new Promise((r) => tracker.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${tracker.address().port}`;
  await waitForSmtp();
  const { page, context, errors } = await newUser('dave');
  const html = [
    `<p id="visible">Totally normal newsletter</p>`,
    `<script>fetch('${origin}/script'); parent.document.title = 'pwned';</script>`,
    `<img src="${origin}/pixel.gif" alt="pixel">`,
    `<img src="x" onerror="fetch('${origin}/onerror'); top.document.title = 'pwned'">`,
    `<a id="jslink" href="javascript:fetch('${origin}/js')">click me</a>`,
    `<div style="background:url(${origin}/css.png)">bg</div>`,
  ].join('\n');
  const replies = await smtpSend(smtpPort, 'mallory@example.com', 'dave@penncloud.local',
    `From: mallory@example.com\nTo: dave@penncloud.local\nSubject: Hostile\n` +
    `MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n${html}`);
  assert.match(replies[5], /^250 /, replies.join(' | '));

  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  await page.reload();
  await page.locator('#message-rows tr', { hasText: 'Hostile' }).click();
  const frame = page.frameLocator('#html-frame');
  await frame.locator('#visible').waitFor();
  await frame.locator('#jslink').click().catch(() => {});
  await page.waitForTimeout(1500);
  assert.equal(hits, 0, 'something was fetched');
  assert.equal(await page.title(), 'Mail · PennCloud');
  assert.equal(dialogs, 0);

  // Asking for images loads the remote image (and still runs no script): the test can fail.
  await page.getByRole('button', { name: 'Show images' }).click();
  await page.waitForTimeout(1500);
  assert.ok(paths.includes('/pixel.gif'), `remote image not loaded after asking: ${paths}`);
  for (const p of ['/script', '/onerror', '/js']) assert.ok(!paths.includes(p), `${p} ran`);
  assert.equal(await page.title(), 'Mail · PennCloud');
  assert.deepEqual(errors, []);
  await context.close();
  tracker.close();
});
