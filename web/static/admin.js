// The admin console: every node of every tier from /api/admin/overview, refreshed every
// second; Stop / Start per node; membership (replicas and groups) with the rebalance
// progress; an activity list of what changed between refreshes (a node going down, a
// group electing a new leader, a restarted replica catching up); the load charts and the
// raw-data browser live in admin.charts.js and admin.data.js.
import { api } from '/static/api.js';
import { startPage } from '/static/layout.js';
import { startCharts } from '/static/admin.charts.js';
import { startDataBrowser } from '/static/admin.data.js';
import { startSignupSettings } from '/static/admin.signup.js';
import { startUsers } from '/static/admin.users.js';
import {
  confirmAction, el, hideAlert, humanBytes, humanDuration, orDash, rate, showAlert,
} from '/static/admin.util.js';

await startPage('admin');

const REFRESH_MS = 1000;
const alertBox = document.getElementById('alert');
const nodeRows = document.getElementById('node-rows');
const groupRows = document.getElementById('group-rows');
const rowsById = new Map();  // node id -> {tr, cells, buttons}
const pending = new Map();  // node id -> what the page asked for ('stop' | 'start' | 'remove')
let previous = null;  // the last overview, to notice changes
const catchingUp = new Map();  // node id -> true while a restarted replica lags its leader

const setDataGroups = startDataBrowser();
startCharts(() => {});  // chart errors show up in the overview status already
startSignupSettings();
startUsers();

// ---- activity -----------------------------------------------------------------------------

function note(text, kind = 'secondary') {
  const list = document.getElementById('activity');
  const item = el('li', `admin-event admin-event-${kind}`);
  item.appendChild(el('time', 'text-muted me-2', new Date().toLocaleTimeString()));
  item.appendChild(document.createTextNode(text));
  list.prepend(item);
  while (list.children.length > 100) list.lastChild.remove();
}

// ---- actions ------------------------------------------------------------------------------

async function act(what, request, doneText) {
  hideAlert(alertBox);
  try {
    const result = await request();
    if (doneText) note(doneText(result || {}), 'info');
    return result;
  } catch (e) {
    showAlert(alertBox, `${what} failed: ${e.message}`);
    return null;
  }
}

async function stopNode(node) {
  const ok = await confirmAction(`Stop ${node.id}?`,
    `${node.id} (${node.address}) will be killed like a crash: it loses everything in memory ` +
    'and stops answering until you start it again.', 'Stop');
  if (!ok) return;
  pending.set(node.id, 'stop');
  refreshButtons();
  const res = await act(`Stopping ${node.id}`,
    () => api('POST', `/api/admin/nodes/${encodeURIComponent(node.id)}/stop`));
  if (!res) pending.delete(node.id);
  refresh();
}

async function startNode(node) {
  const ok = await confirmAction(`Start ${node.id}?`,
    `${node.id} restarts from its on-disk state, exactly as after a crash.`, 'Start');
  if (!ok) return;
  pending.set(node.id, 'start');
  refreshButtons();
  const res = await act(`Starting ${node.id}`,
    () => api('POST', `/api/admin/nodes/${encodeURIComponent(node.id)}/start`));
  if (!res) pending.delete(node.id);
  refresh();
}

async function removeReplica(node) {
  const ok = await confirmAction(`Remove ${node.id} from group ${node.group}?`,
    'The replica leaves the group through consensus (a leader hands over first), then its ' +
    'process is stopped.', 'Remove');
  if (!ok) return;
  pending.set(node.id, 'remove');
  refreshButtons();
  const res = await act(`Removing ${node.id}`,
    () => api('DELETE', `/api/admin/groups/${encodeURIComponent(node.group)}/replicas/` +
                        encodeURIComponent(node.id)),
    () => `asked group ${node.group} to remove ${node.id}`);
  if (!res) pending.delete(node.id);
}

async function addReplica(group) {
  const ok = await confirmAction(`Add a replica to group ${group}?`,
    'A new replica process is launched and joins the group through consensus.', 'Add replica');
  if (!ok) return;
  await act(`Adding a replica to group ${group}`,
    () => api('POST', `/api/admin/groups/${encodeURIComponent(group)}/replicas`, {}),
    (r) => `group ${group}: adding replica ${r.id || ''}`.trim());
}

async function addGroup() {
  const ok = await confirmAction('Add a group?',
    'Three new replicas are launched as a new group, added to the cluster map, and ranges ' +
    'move to it.', 'Add group');
  if (!ok) return;
  await act('Adding a group', () => api('POST', '/api/admin/groups', {}),
    (r) => `adding group ${r.group || ''}; rebalancing`.trim());
}

async function removeGroup(group) {
  const ok = await confirmAction(`Remove group ${group}?`,
    'Its ranges move to the other groups; the group leaves the map when they are all moved.',
    'Remove group');
  if (!ok) return;
  await act(`Removing group ${group}`,
    () => api('DELETE', `/api/admin/groups/${encodeURIComponent(group)}`),
    () => `removing group ${group}; rebalancing`);
}

// ---- nodes table --------------------------------------------------------------------------

const COLUMNS = ['id', 'tier', 'address', 'group', 'role', 'ballot', 'slots', 'log', 'health',
                 'rps', 'p99', 'conns', 'uptime', 'version', 'cert', 'actions'];

function newRow(node) {
  const tr = el('tr');
  tr.dataset.nodeId = node.id;
  const cells = {};
  for (const c of COLUMNS) {
    cells[c] = el(c === 'id' ? 'th' : 'td', `admin-col-${c}`);
    if (c === 'id') cells[c].scope = 'row';
    tr.appendChild(cells[c]);
  }
  const button = (label, cls, handler) => {
    const b = el('button', `btn btn-sm ${cls} me-1`, label);
    b.type = 'button';
    b.setAttribute('aria-label', `${label} ${node.id}`);
    b.addEventListener('click', () => handler(entry.node));
    cells.actions.appendChild(b);
    return b;
  };
  const entry = { tr, cells, node };
  entry.buttons = {
    stop: button('Stop', 'btn-outline-danger', stopNode),
    start: button('Start', 'btn-outline-success', startNode),
    remove: button('Remove', 'btn-outline-secondary', removeReplica),
  };
  return entry;
}

function setBadge(cell, text, kind) {
  cell.replaceChildren(el('span', `badge text-bg-${kind}`, text));
}

function healthOf(node, lag) {
  const p = pending.get(node.id);
  if (p === 'stop' && node.health === 'up') return ['stopping…', 'warning'];
  if (p === 'start' && node.health !== 'up') return ['starting…', 'warning'];
  if (node.health === 'up' && catchingUp.has(node.id) && lag !== null) {
    return [`catching up (${lag} behind)`, 'warning'];
  }
  return [node.health, { up: 'success', down: 'danger', stopped: 'secondary' }[node.health] ||
                       'dark'];
}

function fillRow(entry, node, lag) {
  const { tr, cells } = entry;
  entry.node = node;
  const leader = node.paxos_role === 'leader';
  tr.dataset.health = node.health;
  tr.dataset.role = node.paxos_role || '';
  tr.className = node.health === 'up' ? (leader ? 'table-primary' : '') : 'table-light text-muted';
  cells.id.textContent = node.id;
  if (node.name && node.name !== node.id) cells.id.title = node.name;
  cells.tier.textContent = node.tier;
  cells.address.textContent = orDash(node.address);
  cells.group.textContent = node.group === null || node.group === undefined ? '–' :
    `${node.group}${node.replica !== null && node.replica !== undefined ? ` / r${node.replica}` : ''}`;
  if (node.paxos_role) {
    setBadge(cells.role, leader ? '★ leader' : node.paxos_role,
      leader ? 'primary' : node.paxos_role === 'candidate' ? 'warning' : 'light');
  } else {
    cells.role.textContent = '–';
  }
  cells.ballot.textContent = orDash(node.ballot);
  if (node.tier === 'kvs') {
    cells.slots.textContent = `${orDash(node.applied_slot)} / ${orDash(node.commit_slot)}`;
    if (lag !== null && lag > 0) cells.slots.appendChild(el('span', 'text-danger small ms-1', `−${lag}`));
    cells.log.textContent = `${orDash(node.log_slots)} slots, ${humanBytes(node.log_bytes)}`;
  } else {
    cells.slots.textContent = '–';
    cells.log.textContent = '–';
  }
  setBadge(cells.health, ...healthOf(node, lag));
  cells.rps.textContent = rate(node.requests_per_second);
  cells.p99.textContent = node.p99_ms === null || node.p99_ms === undefined ? '–' : `${rate(node.p99_ms)} ms`;
  cells.conns.textContent = orDash(node.connections);
  cells.uptime.textContent = node.health === 'up' ? humanDuration(node.uptime_s) : '–';
  cells.version.textContent = orDash(node.version);
  fillCertificate(cells.cert, node.certificate);
  setButtons(entry);
}

// The identity a node proves on internal gRPC and when its certificate runs out; one that
// expires within 30 days is flagged so it is rotated before peers refuse the node.
function fillCertificate(cell, cert) {
  if (!cert) {
    cell.textContent = '–';
    cell.title = '';
    return;
  }
  const expires = new Date(cert.expires_unix * 1000).toISOString().slice(0, 10);
  cell.title = `${cert.identity}, valid until ${expires}`;
  if (cert.expiring_soon) {
    setBadge(cell, cert.days_left < 0 ? 'expired' : `expires in ${cert.days_left} d`, 'warning');
  } else {
    cell.replaceChildren(el('span', 'small', `${cert.identity} · ${expires}`));
  }
}

function setButtons(entry) {
  const { node, buttons } = entry;
  const p = pending.get(node.id);
  buttons.stop.hidden = !node.can_stop || node.health === 'stopped';
  buttons.stop.disabled = p !== undefined;
  buttons.start.hidden = !node.can_start || node.health === 'up';
  buttons.start.disabled = p !== undefined;
  buttons.remove.hidden = node.tier !== 'kvs' || node.group === null || node.group === undefined;
  buttons.remove.disabled = p !== undefined;
}

function refreshButtons() {
  for (const entry of rowsById.values()) setButtons(entry);
}

// Applied-slot lag of each KVS replica behind its group's leader (null without a leader).
function lagsOf(overview) {
  const byId = new Map(overview.nodes.map((n) => [n.id, n]));
  const lags = new Map();
  for (const g of overview.groups || []) {
    const leader = byId.get(g.leader);
    for (const id of g.members || []) {
      const n = byId.get(id);
      if (!n) continue;
      lags.set(id, leader && n.applied_slot !== null && leader.applied_slot !== null ?
        Math.max(0, leader.applied_slot - n.applied_slot) : null);
    }
  }
  return lags;
}

function renderNodes(overview, lags) {
  const seen = new Set();
  overview.nodes.forEach((node, i) => {
    seen.add(node.id);
    let entry = rowsById.get(node.id);
    if (!entry) {
      entry = newRow(node);
      rowsById.set(node.id, entry);
    }
    fillRow(entry, node, lags.has(node.id) ? lags.get(node.id) : null);
    if (nodeRows.children[i] !== entry.tr) nodeRows.insertBefore(entry.tr, nodeRows.children[i] || null);
  });
  for (const [id, entry] of rowsById) {
    if (!seen.has(id)) {
      entry.tr.remove();
      rowsById.delete(id);
    }
  }
  const up = overview.nodes.filter((n) => n.health === 'up').length;
  document.getElementById('node-counts').textContent =
    `${overview.nodes.length} nodes, ${up} up, ${overview.nodes.length - up} not up`;
}

function renderGroups(overview) {
  groupRows.replaceChildren();
  for (const g of overview.groups || []) {
    const tr = el('tr');
    tr.dataset.groupId = g.id;
    tr.appendChild(el('th', '', g.id === 'config' ? 'config' : `group ${g.id}`)).scope = 'row';
    const leader = el('td');
    if (g.leader) leader.appendChild(el('span', 'badge text-bg-primary', `★ ${g.leader}`));
    else leader.appendChild(el('span', 'badge text-bg-warning', 'no leader'));
    tr.appendChild(leader);
    tr.appendChild(el('td', 'small', (g.members || []).join(', ')));
    tr.appendChild(el('td', '', rate(g.ops_per_second)));
    const actions = el('td');
    const add = el('button', 'btn btn-sm btn-outline-primary me-1', 'Add replica');
    add.type = 'button';
    add.setAttribute('aria-label', `Add a replica to group ${g.id}`);
    add.addEventListener('click', () => addReplica(g.id));
    actions.appendChild(add);
    if (g.id !== 'config') {
      const remove = el('button', 'btn btn-sm btn-outline-danger', 'Remove group');
      remove.type = 'button';
      remove.setAttribute('aria-label', `Remove group ${g.id}`);
      remove.addEventListener('click', () => removeGroup(g.id));
      actions.appendChild(remove);
    }
    tr.appendChild(actions);
    groupRows.appendChild(tr);
  }
  document.getElementById('map-version').textContent = orDash(overview.map_version);
}

function renderRebalance(r) {
  const bar = document.getElementById('rebalance-bar');
  const fill = document.getElementById('rebalance-fill');
  const text = document.getElementById('rebalance-text');
  if (!r || !r.active) {
    bar.setAttribute('aria-valuenow', '0');
    fill.style.width = '0%';
    fill.classList.remove('progress-bar-striped', 'progress-bar-animated');
    text.textContent = 'No rebalance running.';
    return;
  }
  const fraction = r.bytes_total > 0 ? r.bytes_moved / r.bytes_total :
    r.ranges_total > 0 ? r.ranges_done / r.ranges_total : 0;
  const pct = Math.min(100, Math.round(fraction * 100));
  bar.setAttribute('aria-valuenow', String(pct));
  fill.style.width = `${pct}%`;  // CSSOM, allowed by the CSP
  fill.textContent = `${pct}%`;
  fill.classList.add('progress-bar-striped', 'progress-bar-animated');
  const bytes = r.bytes_total === null || r.bytes_total === undefined ?
    `${humanBytes(r.bytes_moved)} moved` :
    `${humanBytes(r.bytes_moved)} of ${humanBytes(r.bytes_total)} moved`;
  text.textContent = `${r.ranges_done} of ${r.ranges_total} ranges, ${bytes}, ` +
    (r.eta_s === null || r.eta_s === undefined ? 'time left unknown' : `about ${humanDuration(r.eta_s)} left`);
}

// ---- change detection ---------------------------------------------------------------------

function noticeChanges(overview, lags) {
  const before = previous ? new Map(previous.nodes.map((n) => [n.id, n])) : new Map();
  const leaderBefore = previous ? new Map((previous.groups || []).map((g) => [g.id, g])) : new Map();
  const byId = new Map(overview.nodes.map((n) => [n.id, n]));
  for (const node of overview.nodes) {
    const old = before.get(node.id);
    if (pending.has(node.id) && old && old.health !== node.health) pending.delete(node.id);
    if (!old) {
      if (!previous) continue;
      note(`${node.id} appeared (${node.health})`, 'info');
      // A replica that just joined starts behind, like one that restarted.
      if (node.tier === 'kvs' && node.health === 'up') catchingUp.set(node.id, true);
    } else if (old.health !== node.health) {
      note(`${node.id} is ${node.health}`, node.health === 'up' ? 'success' : 'danger');
      if (node.health === 'up' && node.tier === 'kvs') catchingUp.set(node.id, true);
      if (node.health !== 'up') catchingUp.delete(node.id);
    }
    if (catchingUp.has(node.id) && node.health === 'up') {
      const lag = lags.get(node.id);
      // Under load the leader keeps moving: reaching where it was a second ago counts.
      const g = (overview.groups || []).find((x) => x.id === node.group);
      const oldLeader = g && previous ? before.get(g.leader) : null;
      if (lag === 0 || (lag !== null && oldLeader && node.applied_slot >= oldLeader.applied_slot)) {
        catchingUp.delete(node.id);
        note(`${node.id} caught up with the leader (applied slot ${node.applied_slot})`, 'success');
      }
    }
  }
  for (const id of before.keys()) {
    if (!byId.has(id)) {
      note(`${id} left the cluster`, 'info');
      pending.delete(id);
    }
  }
  for (const g of overview.groups || []) {
    const old = leaderBefore.get(g.id);
    const label = g.id === 'config' ? 'config group' : `group ${g.id}`;
    if (!old) {
      if (previous) note(`${label} appeared`, 'info');
    } else if (old.leader !== g.leader) {
      if (g.leader) note(`${label} elected a new leader: ${g.leader}` +
                         (old.leader ? ` (was ${old.leader})` : ''), 'primary');
      else note(`${label} has no leader (was ${old.leader})`, 'danger');
    }
  }
  for (const id of leaderBefore.keys()) {
    if (!(overview.groups || []).some((g) => g.id === id)) note(`group ${id} left the map`, 'info');
  }
  if (previous && previous.rebalance?.active && !overview.rebalance?.active) {
    note('rebalance finished', 'success');
  }
}

// ---- refresh loop -------------------------------------------------------------------------

let timer = null;
let running = false;  // one refresh at a time; a refresh asked for meanwhile waits for the timer
async function refresh() {
  if (running) return;
  running = true;
  clearTimeout(timer);
  const status = document.getElementById('overview-status');
  try {
    const overview = await api('GET', '/api/admin/overview');
    const lags = lagsOf(overview);
    noticeChanges(overview, lags);
    renderNodes(overview, lags);
    renderGroups(overview);
    renderRebalance(overview.rebalance);
    setDataGroups((overview.groups || []).map((g) => g.id));
    previous = overview;
    status.textContent = `Updated ${new Date(overview.now_ms || Date.now()).toLocaleTimeString()}`;
    status.className = 'text-muted small';
  } catch (e) {
    status.textContent = `Cannot load the overview: ${e.message}`;
    status.className = 'text-danger small';
  } finally {
    running = false;
    timer = setTimeout(refresh, REFRESH_MS);
  }
}

document.getElementById('add-group').addEventListener('click', addGroup);
refresh();
