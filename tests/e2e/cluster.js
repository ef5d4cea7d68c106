// Starts a whole real PennCloud on free loopback ports for browser tests: a 3-replica KVS
// group, the coordinator (the browser's one origin) and frontends. Specs of every area
// (accounts, mail, drive) share it:
//
//   import { startCluster, launchBrowser } from '../cluster.js';
//   const cluster = await startCluster({ frontends: 2 });
//   const browser = await launchBrowser();
//   const page = await browser.newPage();
//   await page.goto(cluster.url('/signup'));
//   ...
//   await browser.close(); await cluster.stop();
//
// Binaries come from $PENNCLOUD_BIN_DIR (ctest sets it; default build/h4-web/bin), the web
// app from the checkout's web/. Logs land in cluster.dir (kept if a spec fails and
// $PENNCLOUD_KEEP_TEST_DIRS is set).
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const sourceRoot = resolve(here, '..', '..');
export const binDir = process.env.PENNCLOUD_BIN_DIR || join(sourceRoot, 'build', 'h4-web', 'bin');

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` (an async function returning true when ready) every 100 ms.
async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

class Cluster {
  constructor(dir) {
    this.dir = dir;
    this.processes = new Map();  // name -> { child, args, log }
  }

  url(path = '/') {
    return `http://127.0.0.1:${this.httpPort}${path}`;
  }

  launch(name, binary, args) {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(join(binDir, binary), args, { stdio: ['ignore', log, log] });
    this.processes.set(name, { child, binary, args });
    return child;
  }

  kill(name, signal = 'SIGKILL') {
    const p = this.processes.get(name);
    if (p && p.child.exitCode === null) p.child.kill(signal);
  }

  restart(name) {
    const p = this.processes.get(name);
    this.kill(name);
    return this.launch(name, p.binary, p.args);
  }

  log(name) {
    return readFileSync(join(this.dir, `${name}.log`), 'utf8');
  }

  async stop() {
    for (const name of this.processes.keys()) this.kill(name);
    await sleep(100);
    if (!process.env.PENNCLOUD_KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startCluster({ frontends = 1, replicas = 3, extraFrontendFlags = [] } = {}) {
  const cluster = new Cluster(mkdtempSync(join(tmpdir(), 'penncloud-e2e-')));
  try {
    const kvsPorts = [];
    for (let i = 0; i < replicas; i++) kvsPorts.push(await freePort());
    const peers = kvsPorts.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
    kvsPorts.forEach((port, i) => {
      cluster.launch(`kvs${i + 1}`, 'kvs_server', [
        `--id=${i + 1}`, `--peers=${peers}`, `--client_addrs=${peers}`,
        `--listen=127.0.0.1:${port}`, `--data_dir=${join(cluster.dir, `replica-${i + 1}`)}`,
      ]);
    });
    cluster.kvsSpec = kvsPorts.map((p) => `127.0.0.1:${p}`).join(',');

    cluster.httpPort = await freePort();
    cluster.grpcPort = await freePort();
    cluster.launch('coordinator', 'coordinator', [
      `--http_port=${cluster.httpPort}`, `--grpc_port=${cluster.grpcPort}`,
      `--kvs=${cluster.kvsSpec}`,
    ]);
    cluster.frontendPorts = [];
    for (let i = 0; i < frontends; i++) {
      const port = await freePort();
      cluster.frontendPorts.push(port);
      cluster.launch(`frontend${i + 1}`, 'frontend', [
        `--port=${port}`, `--kvs=${cluster.kvsSpec}`,
        `--coordinator=127.0.0.1:${cluster.grpcPort}`, `--web_root=${join(sourceRoot, 'web')}`,
        '--io_threads=1', '--workers=16', ...extraFrontendFlags,
      ]);
    }
    // Ready when :8000 reaches a frontend and that frontend reaches the store: a login
    // with unknown credentials then answers 401 (503 while the store has no leader).
    await waitFor('the web tier and the store', async () => {
      const res = await fetch(cluster.url('/api/login'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'probe', password: 'probe-probe' }),
      });
      return res.status === 401;
    }, 30000);
    return cluster;
  } catch (e) {
    e.message += ` (logs in ${cluster.dir})`;
    for (const name of cluster.processes.keys()) cluster.kill(name);
    throw e;
  }
}

// Debian's chromium, headless, driven by playwright-core (no browser download).
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.PENNCLOUD_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

// Signs up through the real page and lands on the home page. Returns the page.
export async function signUp(page, cluster, username, password) {
  await page.goto(cluster.url('/signup'));
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(cluster.url('/'));
  return page;
}

export async function logIn(page, cluster, username, password) {
  await page.goto(cluster.url('/login'));
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}
