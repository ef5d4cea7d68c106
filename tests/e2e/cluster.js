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
// Binaries come from $PENNCLOUD_BIN_DIR (ctest sets it; default build/release/bin), the web
// app from the checkout's web/. Logs land in cluster.dir (kept if a spec fails and
// $PENNCLOUD_KEEP_TEST_DIRS is set).
//
// Every process gets a launch record, cluster.runDir/<name>.json = {name, tier, address,
// argv, cwd, log, pid}, kept current across restarts, so the coordinator (--run_dir) can stop
// and start nodes it did not launch. `startCluster({ groups: N })` starts the sharded
// layout instead of one group: a config group plus N data groups on the hash ring, named
// like the admin console's node ids (kvs-config-1, kvs-g2-3, frontend-<port>).
//
// Internal gRPC is mutual TLS, as in production: one cluster CA per test run (this node
// process), made by scripts/lib/tls.sh like start.sh's, and a certificate per node name.
// launch() adds --tls_dir to every PennCloud binary (so it is in the launch records too,
// and a node the console restarts comes back with it), and kvsctl() holds an operator's
// (admin) certificate.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const sourceRoot = resolve(here, '..', '..');
export const binDir = process.env.PENNCLOUD_BIN_DIR || join(sourceRoot, 'build', 'release', 'bin');

// A port nothing listens on. The kernel may hand out the same one twice, so the ports given
// out in this process are remembered and skipped.
const givenPorts = new Set();
export async function freePort() {
  for (;;) {
    const port = await new Promise((ok, fail) => {
      const server = createServer();
      server.unref();
      server.on('error', fail);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => ok(port));
      });
    });
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
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

// --- the test run's cluster CA ---------------------------------------------------------
const tlsScript = join(sourceRoot, 'scripts', 'lib', 'tls.sh');
let pkiDir = null;

function runTlsScript(...args) {
  execFileSync('bash', [tlsScript, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
}

// The CA's folder, made on first use and removed when this process exits (keys included;
// kept with $PENNCLOUD_KEEP_TEST_DIRS, like the clusters' folders whose launch records name
// it). As in start.sh's state/tls/, every process finds <node name>.crt/.key there.
function pki() {
  if (pkiDir === null) {
    pkiDir = mkdtempSync(join(tmpdir(), 'penncloud-e2e-pki-'));
    if (!process.env.PENNCLOUD_KEEP_TEST_DIRS) {
      process.on('exit', () => rmSync(pkiDir, { recursive: true, force: true }));
    }
    runTlsScript('ca', pkiDir);
  }
  return pkiDir;
}

// Makes sure node `name` has a certificate for `identity` (spiffe://penncloud/<identity>)
// in the CA's folder; returns the --tls_dir flag.
const issued = new Set();
export function issueCertificate(name, identity) {
  const dir = pki();
  if (!issued.has(name)) {
    runTlsScript('issue', dir, name, identity, '127.0.0.1');
    issued.add(name);
  }
  return `--tls_dir=${dir}`;
}

// The value of --flag=VALUE in args, or undefined.
function flagValue(args, flag) {
  const prefix = `--${flag}=`;
  const arg = args.find((a) => a.startsWith(prefix));
  return arg === undefined ? undefined : arg.slice(prefix.length);
}

// The node name (its certificate's file name) and identity of a binary started with `args`:
// the name it derives itself (common/node_name.h) unless --node_name gives one. null: not
// a PennCloud server.
function tlsNameOf(binary, args) {
  const node = flagValue(args, 'node_name');
  switch (binary) {
    case 'kvs_server': {
      const group = flagValue(args, 'group') || '0';
      const id = flagValue(args, 'id');
      return { name: node || (group === '0' ? `kvs-${id}` : `kvs-g${group}-${id}`),
               identity: `replica/${group}/${id}` };
    }
    case 'frontend': {
      const name = node || `frontend-${flagValue(args, 'port') || 8001}`;
      return { name, identity: `service/frontend/${name}` };
    }
    case 'smtp': case 'pop3': case 'imap':
      return { name: node || binary, identity: `service/${binary}/${node || binary}` };
    case 'coordinator':
      return { name: node || 'coordinator', identity: `coordinator/${node || 'coordinator'}` };
    default:
      return null;
  }
}

// `args` with the TLS flag `binary` needs, unless they already name TLS files.
function withTls(binary, args) {
  if (args.some((a) => a.startsWith('--tls_') || a === '--insecure_plaintext')) return args;
  const node = tlsNameOf(binary, args);
  return node ? [...args, issueCertificate(node.name, node.identity)] : args;
}

const TIERS = { kvs_server: 'kvs', frontend: 'frontend', coordinator: 'coordinator', smtp: 'smtp',
                pop3: 'pop3' };

// The host:port a process serves clients on, from its flags.
function addressOf(args) {
  for (const a of args) {
    const [flag, value] = a.split(/=(.*)/s);
    if (flag === '--listen') return value;
    if (flag === '--port' || flag === '--http_port') return `127.0.0.1:${value}`;
  }
  return null;
}

// Whether `binary` knows `--flag` (so the harness can pass flags other engineers add to a
// binary without breaking while an older build is in use).
const flagCache = new Map();
export function binaryHasFlag(binary, flag) {
  const key = `${binary} ${flag}`;
  if (!flagCache.has(key)) {
    let help = '';
    try {
      help = execFileSync(join(binDir, binary), ['--helpfull'], { encoding: 'utf8' });
    } catch (e) {
      help = `${e.stdout || ''}${e.stderr || ''}`;  // --helpfull exits non-zero
    }
    flagCache.set(key, help.includes(`--${flag} (`));
  }
  return flagCache.get(key);
}

function processArgv(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return null;
  }
}

class Cluster {
  constructor(dir) {
    this.dir = dir;
    this.runDir = join(dir, 'run');
    mkdirSync(this.runDir, { recursive: true });
    this.processes = new Map();  // name -> { child, binary, args, tier, address }
  }

  url(path = '/') {
    return `http://127.0.0.1:${this.httpPort}${path}`;
  }

  launch(name, binary, plainArgs, { tier = TIERS[binary] || binary, address = addressOf(plainArgs) } = {}) {
    const args = withTls(binary, plainArgs);
    const logPath = join(this.dir, `${name}.log`);
    const log = openSync(logPath, 'a');
    const argv = [join(binDir, binary), ...args];
    const child = spawn(argv[0], args, { stdio: ['ignore', log, log], cwd: this.dir });
    this.processes.set(name, { child, binary, args, tier, address });
    this.writeRecord({ name, tier, address, argv, cwd: this.dir, log: logPath, pid: child.pid });
    return child;
  }

  // Written whole and renamed into place: the coordinator may read it at any moment.
  writeRecord(record) {
    const path = join(this.runDir, `${record.name}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(record, null, 2));
    renameSync(`${path}.tmp`, path);
  }

  records() {
    return readdirSync(this.runDir).filter((f) => f.endsWith('.json')).map((f) => {
      try {
        return JSON.parse(readFileSync(join(this.runDir, f), 'utf8'));
      } catch {
        return null;  // being replaced right now
      }
    }).filter((r) => r);
  }

  record(name) {
    return JSON.parse(readFileSync(join(this.runDir, `${name}.json`), 'utf8'));
  }

  // The live pid of a process by its record, which the coordinator rewrites when it
  // starts a node again; null when that pid is gone or runs something else.
  pidOf(name) {
    const r = this.record(name);
    const argv = processArgv(r.pid);
    return argv && argv.join('\0') === r.argv.join('\0') ? r.pid : null;
  }

  kill(name, signal = 'SIGKILL') {
    const p = this.processes.get(name);
    if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
    // A node the coordinator restarted is not our child: find it by its record.
    if (existsSync(join(this.runDir, `${name}.json`))) {
      const pid = this.pidOf(name);
      if (pid !== null && (!p || pid !== p.child.pid)) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
    }
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
    const names = new Set([...this.processes.keys(), ...this.records().map((r) => r.name)]);
    for (const name of names) this.kill(name);
    await sleep(100);
    if (!process.env.PENNCLOUD_KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}

// Launches one group of `replicas` kvs_servers on free ports; returns its client spec and
// peer list.
async function launchGroup(cluster, { replicas, name, extraArgs = [] }) {
  const ports = [];
  for (let i = 0; i < replicas; i++) ports.push(await freePort());
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  ports.forEach((port, i) => {
    const replica = name(i + 1);
    cluster.launch(replica, 'kvs_server', [
      `--id=${i + 1}`, `--peers=${peers}`, `--client_addrs=${peers}`,
      `--listen=127.0.0.1:${port}`, `--data_dir=${join(cluster.dir, replica)}`, ...extraArgs,
    ]);
  });
  return { spec: ports.map((p) => `127.0.0.1:${p}`).join(','), peers };
}

// Runs kvsctl with `args` (which name the store: --group=... or --config=...) and the
// test run's admin certificate; `input` feeds a '-' value. Returns its standard output;
// throws on a non-zero exit.
export function kvsctl(args, input) {
  return execFileSync(join(binDir, 'kvsctl'), [issueCertificate('kvsctl', 'admin/kvsctl'), ...args], {
    encoding: 'utf8', input, timeout: 30000, stdio: ['pipe', 'pipe', 'pipe'],
  });
}

// The sharded store: a config group holding the cluster map and `groups` data groups
// (ids 1..groups) on the hash ring. Returns the spec every tier's --kvs takes.
async function startShardedStore(cluster, { groups, replicas }) {
  const config = await launchGroup(cluster, { replicas, name: (r) => `kvs-config-${r}` });
  cluster.configSpec = config.spec;
  cluster.groupSpecs = {};
  const peers = {};
  for (let g = 1; g <= groups; g++) {
    const group = await launchGroup(cluster, {
      replicas, name: (r) => `kvs-g${g}-${r}`, extraArgs: [`--group=${g}`, `--config=${config.spec}`],
    });
    cluster.groupSpecs[g] = group.spec;
    peers[g] = group.peers;
  }
  // The admin console starts new replicas (the next ids of a group) and new groups with a
  // sibling's flags and --node_name=kvs-gG-N, so they look for kvs-gG-N.crt in --tls_dir:
  // issued up front here, as an operator whose CA key is not on the coordinator would.
  for (let g = 1; g <= groups + 1; g++) {
    const ids = g <= groups ? [replicas + 1, replicas + 2] : [...Array(replicas).keys()].map((i) => i + 1);
    for (const id of ids) issueCertificate(`kvs-g${g}-${id}`, `replica/${g}/${id}`);
  }
  // Every group answers Status (has its replicas up) before the map names it.
  for (const [what, spec] of [['the config group', config.spec],
                              ...Object.entries(cluster.groupSpecs).map(([g, sp]) => [`group ${g}`, sp])]) {
    await waitFor(what, async () => {
      kvsctl([`--group=${spec}`, '--timeout_ms=2000', 'status']);
      return true;
    }, 30000);
  }
  // Each step is retried until the map shows its effect: on a busy machine a step can
  // time out half done, and init / add / rebalance all resume from the stored map.
  const admin = (args) => kvsctl([`--config=${config.spec}`, '--timeout_ms=20000', ...args]);
  const show = () => admin(['cluster', 'show']);
  await waitFor('the cluster map', async () => {
    try {
      show();
    } catch {
      admin(['cluster', 'init', `1@${peers[1]}`]);
    }
    return true;
  }, 90000);
  for (let g = 2; g <= groups; g++) {
    await waitFor(`group ${g} in the map`, async () => {
      if (!show().includes(`group ${g} `)) admin(['group', 'add', `${g}@${peers[g]}`]);
      else admin(['rebalance']);
      const map = show();
      return map.includes(`group ${g} serving`) && map.includes('no rebalance in progress');
    }, 90000);
  }
  return `config=${config.spec}`;
}

// Options: frontends, replicas (per group), extraFrontendFlags; groups (> 0: the sharded
// layout); admin ({user, password}: the coordinator creates that admin account); mail
// (true: SMTP and POP3 too, heartbeating to the coordinator like the frontends).
export async function startCluster({
  frontends = 1, replicas = 3, extraFrontendFlags = [], groups = 0, admin = null, mail = false,
} = {}) {
  const cluster = new Cluster(mkdtempSync(join(tmpdir(), 'penncloud-e2e-')));
  try {
    if (groups > 0) {
      cluster.kvsSpec = await startShardedStore(cluster, { groups, replicas });
    } else {
      const group = await launchGroup(cluster, { replicas, name: (r) => `kvs${r}` });
      cluster.kvsSpec = group.spec;
    }
    // Sharded clusters name processes by their console node id.
    const named = (plain, id) => (groups > 0 ? id : plain);

    cluster.httpPort = await freePort();
    cluster.grpcPort = await freePort();
    const coordinatorArgs = [
      `--http_port=${cluster.httpPort}`, `--grpc_port=${cluster.grpcPort}`, `--kvs=${cluster.kvsSpec}`,
    ];
    if (admin) {
      const file = join(cluster.dir, 'admin-password');
      writeFileSync(file, admin.password, { mode: 0o600 });
      coordinatorArgs.push(`--admin_user=${admin.user}`, `--admin_password_file=${file}`);
    }
    if (binaryHasFlag('coordinator', 'run_dir')) coordinatorArgs.push(`--run_dir=${cluster.runDir}`);
    if (binaryHasFlag('coordinator', 'web_root')) {
      coordinatorArgs.push(`--web_root=${join(sourceRoot, 'web')}`);
    }
    cluster.launch('coordinator', 'coordinator', coordinatorArgs);
    cluster.frontendPorts = [];
    for (let i = 0; i < frontends; i++) {
      const port = await freePort();
      cluster.frontendPorts.push(port);
      cluster.launch(named(`frontend${i + 1}`, `frontend-${port}`), 'frontend', [
        `--port=${port}`, `--kvs=${cluster.kvsSpec}`,
        `--coordinator=127.0.0.1:${cluster.grpcPort}`, `--web_root=${join(sourceRoot, 'web')}`,
        '--io_threads=1', '--workers=16',
        // Sends deliver at once unless a spec sets an account's undo window itself.
        '--undo_send_default_s=0', ...extraFrontendFlags,
      ]);
    }
    if (mail) {
      cluster.smtpPort = await freePort();
      cluster.launch(named('smtp', `smtp-${cluster.smtpPort}`), 'smtp', [
        `--port=${cluster.smtpPort}`, `--kvs=${cluster.kvsSpec}`, `--state_dir=${cluster.dir}`,
        '--relay=false', `--coordinator=127.0.0.1:${cluster.grpcPort}`,
      ]);
      cluster.pop3Port = await freePort();
      cluster.launch(named('pop3', `pop3-${cluster.pop3Port}`), 'pop3', [
        `--port=${cluster.pop3Port}`, `--kvs=${cluster.kvsSpec}`, `--state_dir=${cluster.dir}`,
        `--coordinator=127.0.0.1:${cluster.grpcPort}`,
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

// Runs kvsctl against the cluster's store (the sharded map when there is one); `input`
// feeds a '-' value. Returns its standard output.
export function clusterKvsctl(cluster, args, input) {
  const target = cluster.configSpec ? `--config=${cluster.configSpec}` : `--group=${cluster.kvsSpec}`;
  return kvsctl([target, ...args], input);
}

// Debian's chromium, headless, driven by playwright-core (no browser download).
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.PENNCLOUD_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

// A fresh browser context with one page that collects the page's uncaught errors and, with
// `consoleErrors`, what it logs as errors, so a spec can assert there were none.
export async function openPage(browser, { contextOptions = {}, consoleErrors = true } = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (consoleErrors) {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  }
  return { page, context, errors };
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
