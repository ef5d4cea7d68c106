// What the browser specs do to a page besides clicking: call the JSON API with the page's
// own session, take the desktop and phone screenshots, and run axe-core.
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

// Screenshots go to $PENNCLOUD_SCREENSHOTS, by default a folder under the temp dir: never
// into the checkout.
const screenshots = process.env.PENNCLOUD_SCREENSHOTS || join(tmpdir(), 'penncloud-screenshots');

// The JSON API from inside the page, with its cookie and CSRF token; `raw` sends the body
// as it is instead of as JSON.
export function pageApi(page, method, path, body, raw = false) {
  return page.evaluate(async ({ method, path, body, raw }) => {
    const me = await (await fetch('/api/me')).json();
    const headers = { 'X-CSRF-Token': me.csrf };
    if (!raw && body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : null };
  }, { method, path, body, raw });
}

// The page at desktop width and at 390 px, its size restored afterwards. `fitsPhone` also
// asserts that nothing makes the page wider than the phone's screen.
export async function shoot(page, name, { fitsPhone = false } = {}) {
  mkdirSync(screenshots, { recursive: true });
  const size = page.viewportSize();
  await page.screenshot({ path: join(screenshots, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  if (fitsPhone) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `${name}: the page is ${width} px wide at 390 px`);
  }
  await page.screenshot({ path: join(screenshots, `${name}-390.png`), fullPage: true });
  await page.setViewportSize(size ?? DESKTOP);
}

// Polls `probe(arg)` in the page until it is true. Not page.waitForFunction: that evaluates its
// predicate with eval once it has to poll, which the pages' CSP (script-src 'self') forbids.
export async function until(page, probe, arg, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(probe, arg))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${probe}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// axe-core on the page, or on the part `only` selects: no serious or critical violation.
// Colour transitions run out first: half-way through a switch to dark mode a link's colour is
// neither scheme's, and axe would judge that passing frame.
export async function assertAccessible(page, what, only = null) {
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => {}))));
  const axe = new AxeBuilder({ page });
  if (only) axe.include(only);
  const { violations } = await axe.analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [], `accessibility violations on ${what}`);
}
