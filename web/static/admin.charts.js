// The console's live charts, drawn on plain canvases (no chart library to ship): one line
// per frontend or group over the window /api/admin/history returns.
import { api } from '/static/api.js';
import { el } from '/static/admin.util.js';

const WINDOW_S = 120;
const COLORS = ['#0d6efd', '#dc3545', '#198754', '#fd7e14', '#6f42c1', '#20c997', '#d63384',
                '#6c757d'];

// series: [{name, points: [[t_ms, value|null], ...]}]; a null value breaks the line.
function drawChart(canvas, legend, series, nowMs) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const pad = { left: 44, right: 8, top: 8, bottom: 20 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  ctx.clearRect(0, 0, width, height);

  let max = 0;
  for (const s of series) {
    for (const [, v] of s.points) if (v !== null && v > max) max = v;
  }
  max = max > 0 ? max * 1.15 : 1;
  const t0 = nowMs - WINDOW_S * 1000;
  const x = (t) => pad.left + ((t - t0) / (WINDOW_S * 1000)) * plotW;
  const y = (v) => pad.top + plotH - (v / max) * plotH;

  // Axes, three horizontal guides with their values, and the time labels.
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#6c757d';
  ctx.strokeStyle = '#dee2e6';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 2; i++) {
    const v = (max * i) / 2;
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, yy);
    ctx.lineTo(width - pad.right, yy);
    ctx.stroke();
    ctx.fillText(v >= 10 ? v.toFixed(0) : v.toFixed(1), 4, yy + 4);
  }
  ctx.fillText(`-${WINDOW_S}s`, pad.left, height - 4);
  ctx.fillText('now', width - pad.right - 22, height - 4);

  legend.replaceChildren();
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let drawing = false;
    for (const [t, v] of s.points) {
      if (v === null || v === undefined || t < t0) {
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(x(t), y(v));
      else ctx.moveTo(x(t), y(v));
      drawing = true;
    }
    ctx.stroke();

    const item = el('li', 'list-inline-item');
    const swatch = el('span', 'admin-swatch');
    swatch.style.backgroundColor = color;  // CSSOM, allowed by the page's CSP
    item.append(swatch, document.createTextNode(s.name));
    legend.appendChild(item);
  });
  if (series.length === 0) legend.appendChild(el('li', 'list-inline-item text-muted', 'no data yet'));
}

export function startCharts(onError) {
  const charts = {
    rps: [document.getElementById('chart-rps'), document.getElementById('legend-rps')],
    p99: [document.getElementById('chart-p99'), document.getElementById('legend-p99')],
    ops: [document.getElementById('chart-ops'), document.getElementById('legend-ops')],
  };
  async function refresh() {
    try {
      const h = await api('GET', `/api/admin/history?seconds=${WINDOW_S}`);
      const frontends = Object.entries(h.frontends || {}).sort(([a], [b]) => a.localeCompare(b));
      // The config group first, then data groups by number.
      const rank = (id) => (id === 'config' ? -1 : Number(id));
      const groups = Object.entries(h.groups || {}).sort(([a], [b]) => rank(a) - rank(b));
      let now = Date.now();
      for (const [, pts] of [...frontends, ...groups]) {
        if (pts.length > 0) now = Math.max(now, pts[pts.length - 1][0]);
      }
      drawChart(...charts.rps, frontends.map(([name, pts]) => ({
        name, points: pts.map((p) => [p[0], p[1]]) })), now);
      drawChart(...charts.p99, frontends.map(([name, pts]) => ({
        name, points: pts.map((p) => [p[0], p[2]]) })), now);
      drawChart(...charts.ops, groups.map(([name, pts]) => ({
        name: name === 'config' ? 'config' : `group ${name}`,
        points: pts.map((p) => [p[0], p[1]]) })), now);
      onError(null);
    } catch (e) {
      onError(e);
    }
    setTimeout(refresh, 2000);
  }
  refresh();
}
