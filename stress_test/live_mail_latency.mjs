// Issue 21's live-update target, measured as a distribution (tests/e2e/specs/webmail.test.js
// checks one message): how long after the SMTP server's 250 for a message's data the
// message's row shows in an open webmail tab. Against a running scripts/start.sh cluster:
//   node stress_test/live_mail_latency.mjs [--runs 20] [--base http://127.0.0.1:8000]
//        [--smtp 2500] [--domain penncloud.local]
// Signs up a fresh user in headless Debian chromium (playwright-core of tests/e2e), opens
// the inbox, then per run sends one message with Python's smtplib (tests/mail/smtp_once.py,
// which prints when the 250 came) and waits for its row. Prints one JSON object (ms).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchBrowser, signUp, sourceRoot } from '../tests/e2e/cluster.js';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    base: { type: 'string', default: 'http://127.0.0.1:8000' },
    smtp: { type: 'string', default: '2500' },
    domain: { type: 'string', default: 'penncloud.local' },
  },
});

function smtpSend(to, subject) {
  const script = join(sourceRoot, 'tests', 'mail', 'smtp_once.py');
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [script, flags.smtp, 'bench@example.com', to, subject],
      { timeout: 30000 }, (err, stdout) => (err ? reject(err) : resolve(Number(stdout.trim()))));
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

const site = { url: (path) => `${flags.base}${path}` };
const user = `live${Date.now()}`;
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await signUp(page, site, user, `password-${user}`);
  await page.goto(site.url('/mail'));
  await page.locator('#folders [data-folder="inbox"]').waitFor();
  await page.locator('body[data-live="on"]').waitFor();  // the event stream is ready
  const delays = [];
  for (let i = 0; i < Number(flags.runs); ++i) {
    const subject = `Live ${i} ${Date.now()}`;
    const shown = page.locator('#message-rows tr', { hasText: subject })
      .waitFor({ timeout: 30000 }).then(() => Date.now());
    const accepted = await smtpSend(`${user}@${flags.domain}`, subject);
    delays.push((await shown) - accepted);
  }
  const sorted = [...delays].sort((a, b) => a - b);
  console.log(JSON.stringify({
    runs: delays.length,
    p50_ms: percentile(sorted, 0.5),
    max_ms: sorted[sorted.length - 1],
    delays_ms: delays,
  }));
} finally {
  await browser.close();
}
