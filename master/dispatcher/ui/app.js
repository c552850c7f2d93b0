// Spate's web UI: one page, hash routes, every read and action a call of the
// REST API by a relative URL (so it works under YARN's proxy prefix).
'use strict';

const state = { refresh: 3000, timer: null, rates: {}, route: '' };

// h builds an element; strings become text nodes (never HTML).
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') e.addEventListener('click', v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids.flat()) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ headers: { 'Accept': 'application/json' } }, opts));
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
  if (!r.ok) {
    const msg = body && body.errors ? body.errors.join('; ') : r.status + ' ' + r.statusText;
    const err = new Error(msg);
    err.status = r.status;
    throw err;
  }
  return body;
}

function fmtTime(ms) { return ms > 0 ? new Date(ms).toLocaleString() : '–'; }
function fmtDur(ms) {
  if (ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
}
function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}
// fmtWatermark shows event time as a date when it looks like one (after
// 2001), else as the number it is (a generator's logical time).
function fmtWatermark(ms) { return ms >= 1e12 ? new Date(ms).toISOString() : fmtNum(ms); }
function fmtNum(n) { return Number(n).toLocaleString('en-US'); }
function stateBadge(s, id) { return h('span', { class: 'state state-' + String(s).toLowerCase(), id: id }, s); }

function table(head, rows, cls) {
  return h('table', { class: cls || '' },
    h('thead', {}, h('tr', {}, head.map(c => h('th', {}, c)))),
    h('tbody', {}, rows));
}

function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
}

function banner(err) {
  return h('p', { class: 'error', id: 'error' }, String(err.message || err));
}

// ---- routes -------------------------------------------------------------

async function overviewPage() {
  const [o, jobs] = await Promise.all([api('overview'), api('jobs/overview')]);
  const card = (label, id, v) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id: id }, v));
  const rows = jobs.jobs.slice().sort((a, b) => b['start-time'] - a['start-time']).map(j =>
    h('tr', { class: 'job', 'data-job': j.jid },
      h('td', { class: 'job-name' }, h('a', { href: '#jobs/' + j.jid }, j.name)),
      h('td', {}, stateBadge(j.state)),
      h('td', {}, fmtTime(j['start-time'])),
      h('td', {}, fmtDur(j.duration)),
      h('td', {}, j.tasks.running + ' / ' + j.tasks.total)));
  show(
    h('h1', {}, 'Overview'),
    h('div', { class: 'cards' },
      card('TaskManagers', 'taskmanagers-count', o.taskmanagers),
      card('Slots total', 'slots-total', o['slots-total']),
      card('Slots available', 'slots-available', o['slots-available']),
      card('Jobs running', 'jobs-running', o['jobs-running']),
      card('Finished', 'jobs-finished', o['jobs-finished']),
      card('Cancelled', 'jobs-cancelled', o['jobs-cancelled']),
      card('Failed', 'jobs-failed', o['jobs-failed'])),
    h('h2', {}, 'Jobs'),
    table(['Name', 'State', 'Started', 'Duration', 'Tasks running'], rows, 'jobs'));
}

// vertexGraph lays the plan's tasks out in columns by depth, with the
// exchanges between them as edges.
function vertexGraph(job, plan, live) {
  const tasks = (plan.tasks || []).slice().sort((a, b) => a.index - b.index);
  const opTask = {};
  for (const op of plan.operators || []) opTask[op.id] = op.task;
  const edges = [];
  for (const op of plan.operators || []) {
    for (const inp of op.inputs || []) {
      if (!inp.chained) edges.push({ from: opTask[inp.operator], to: op.task, part: inp.partitioner });
    }
  }
  const depth = {};
  for (const t of tasks) depth[t.index] = 0;
  for (let changed = true, n = 0; changed && n < 100; n++) {
    changed = false;
    for (const e of edges) {
      if (depth[e.to] < depth[e.from] + 1) { depth[e.to] = depth[e.from] + 1; changed = true; }
    }
  }
  const col = {}, pos = {};
  const W = 250, H = 120, GX = 70, GY = 24;
  for (const t of tasks) {
    const d = depth[t.index];
    col[d] = (col[d] || 0) + 1;
    pos[t.index] = { x: 10 + d * (W + GX), y: 10 + (col[d] - 1) * (H + GY) };
  }
  const width = 20 + (Math.max(0, ...Object.values(depth)) + 1) * (W + GX);
  const height = 20 + Math.max(1, ...Object.values(col)) * (H + GY);
  const g = svg('svg', { id: 'graph', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height });
  g.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto' },
    svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }))));
  for (const e of edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    g.append(svg('line', { x1, y1, x2, y2, class: 'edge', 'marker-end': 'url(#arrow)' }));
    g.append(svg('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, class: 'edge-label', 'text-anchor': 'middle' }, String(e.part).toUpperCase()));
  }
  for (const t of tasks) {
    const vid = t.operators[0];
    const v = (job.vertices || []).find(x => x.id === vid) || { metrics: {} };
    const l = live[vid] || {};
    const p = pos[t.index];
    const name = t.name.length > 34 ? t.name.slice(0, 33) + '…' : t.name;
    g.append(svg('g', { class: 'vertex bp-' + (l.level || 'ok'), 'data-vertex': vid, transform: 'translate(' + p.x + ',' + p.y + ')' },
      svg('title', {}, t.name),
      svg('rect', { width: W, height: H, rx: 6 }),
      svg('text', { x: 10, y: 20, class: 'vertex-name' }, name),
      svg('text', { x: 10, y: 38, class: 'vertex-parallelism' }, 'Parallelism: ' + t.parallelism),
      svg('text', { x: 10, y: 56, class: 'vertex-records' }, 'In ' + fmtNum(v.metrics['read-records'] || 0) + ' · Out ' + fmtNum(v.metrics['write-records'] || 0)),
      svg('text', { x: 10, y: 74, class: 'vertex-rate' }, 'Records/s: in ' + fmtNum(l.inRate || 0) + ' · out ' + fmtNum(l.outRate || 0)),
      svg('text', { x: 10, y: 92, class: 'vertex-bp' }, 'Back-pressure: ' + (l.level || 'ok').toUpperCase() + ' (' + Math.round((l.ratio || 0) * 100) + '%)'),
      svg('text', { x: 10, y: 110, class: 'vertex-wm' }, 'Watermark: ' + (l.watermark !== undefined ? fmtWatermark(l.watermark) : 'none'))));
  }
  return g;
}

// liveVertexStats reads back-pressure and watermarks per vertex and turns
// the counters into rates against the previous refresh.
async function liveVertexStats(job) {
  const out = {};
  await Promise.all((job.vertices || []).map(async v => {
    const base = 'jobs/' + job.jid + '/vertices/' + v.id;
    const [bp, wms] = await Promise.all([api(base + '/backpressure').catch(() => null), api(base + '/watermarks').catch(() => [])]);
    const key = job.jid + '/' + v.id;
    const prev = state.rates[key];
    const cur = { t: job.now, r: v.metrics['read-records'] || 0, w: v.metrics['write-records'] || 0 };
    const l = {};
    if (prev && cur.t > prev.t) {
      l.inRate = Math.max(0, Math.round((cur.r - prev.r) * 1000 / (cur.t - prev.t)));
      l.outRate = Math.max(0, Math.round((cur.w - prev.w) * 1000 / (cur.t - prev.t)));
    }
    state.rates[key] = cur;
    if (bp) {
      l.level = bp.backpressureLevel;
      l.ratio = Math.max(0, ...bp.subtasks.map(s => s.ratio));
    }
    if (wms.length) l.watermark = Math.min(...wms.map(m => Number(m.value)));
    out[v.id] = l;
  }));
  return out;
}

async function jobPage(id, tab) {
  const job = await api('jobs/' + id);
  const plan = job.plan || {};
  const running = job.state === 'RUNNING';
  const tabs = ['graph', 'subtasks', 'checkpoints', 'exceptions', 'configuration'];
  const header = h('div', { class: 'job-header' },
    h('h1', { id: 'job-name' }, job.name),
    h('div', { class: 'job-meta' }, stateBadge(job.state, 'job-state'), h('span', { class: 'jid' }, job.jid),
      h('span', {}, 'started ' + fmtTime(job['start-time'])), h('span', {}, 'duration ' + fmtDur(job.duration))),
    h('div', { class: 'actions', 'data-job': id },
      h('button', { id: 'btn-cancel', class: 'danger', disabled: running ? null : 'disabled', onclick: () => confirmAction('cancel', job) }, 'Cancel job'),
      h('button', { id: 'btn-savepoint', disabled: running && job.isStoppable ? null : 'disabled', onclick: () => confirmAction('savepoint', job) }, 'Trigger savepoint'),
      h('button', { id: 'btn-stop', disabled: running && job.isStoppable ? null : 'disabled', onclick: () => confirmAction('stop', job) }, 'Stop with savepoint')),
    h('p', { id: 'action-result' }),
    h('nav', { class: 'tabs' }, tabs.map(t => h('a', { href: '#jobs/' + id + '/' + t, id: 'tab-' + t, class: t === tab ? 'active' : '' }, t[0].toUpperCase() + t.slice(1)))));
  let body;
  switch (tab) {
    case 'subtasks': body = await subtasksTab(job); break;
    case 'checkpoints': body = await checkpointsTab(job); break;
    case 'exceptions': body = await exceptionsTab(job); break;
    case 'configuration': body = configTab(plan); break;
    default: body = vertexGraph(job, plan, await liveVertexStats(job));
  }
  // Keep the action buttons across refreshes (only their enabled state
  // changes): a refresh that replaced a button between mouse down and up
  // would lose the click. Their handlers use only the job's name and id.
  const prevActions = document.querySelector('#main .actions');
  if (prevActions && prevActions.dataset.job === id) {
    const fresh = header.querySelector('.actions');
    for (const b of fresh.querySelectorAll('button')) prevActions.querySelector('#' + b.id).disabled = b.disabled;
    fresh.replaceWith(prevActions);
  }
  const prevResult = document.getElementById('action-result');
  if (prevResult && prevResult.dataset.job === id) {
    header.querySelector('#action-result').replaceWith(prevResult);
  }
  show(header, h('section', { id: 'tab-body', class: 'tab-' + tab }, body));
}

async function subtasksTab(job) {
  const sections = await Promise.all((job.vertices || []).map(async v => {
    const d = await api('jobs/' + job.jid + '/vertices/' + v.id);
    const rows = d.subtasks.map(s => h('tr', { class: 'subtask' },
      h('td', {}, s.subtask), h('td', {}, stateBadge(s.status)), h('td', {}, s.attempt),
      h('td', {}, h('a', { href: '#taskmanagers/' + s['taskmanager-id'] }, s['taskmanager-id'])), h('td', {}, s.endpoint),
      h('td', { class: 'num' }, fmtNum(s.metrics['read-records'])), h('td', { class: 'num' }, fmtNum(s.metrics['write-records'])),
      h('td', { class: 'num' }, fmtDur(s.metrics['accumulated-idle-time']))));
    return h('div', { class: 'vertex-subtasks', 'data-vertex': v.id },
      h('h3', {}, v.name + ' (parallelism ' + v.parallelism + ')'),
      table(['Subtask', 'Status', 'Attempt', 'TaskManager', 'Endpoint', 'Records in', 'Records out', 'Idle'], rows));
  }));
  return h('div', {}, sections);
}

async function checkpointsTab(job) {
  let c;
  try { c = await api('jobs/' + job.jid + '/checkpoints'); } catch (e) {
    if (e.status === 404) return h('p', { id: 'no-checkpoints' }, e.message);
    throw e;
  }
  const count = (label, id, v) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id: id }, v));
  const hist = (c.history || []).map(x => h('tr', { class: 'checkpoint checkpoint-' + x.status.toLowerCase() },
    h('td', {}, x.id), h('td', {}, x.is_savepoint ? 'Savepoint' : 'Checkpoint'), h('td', {}, stateBadge(x.status)),
    h('td', {}, fmtTime(x.trigger_timestamp)), h('td', { class: 'num' }, x.end_to_end_duration + ' ms'),
    h('td', { class: 'num' }, fmtBytes(x.checkpointed_size)), h('td', {}, x.external_path || x.failure_message || '')));
  const restored = c.latest && c.latest.restored;
  return h('div', {},
    h('div', { class: 'cards' },
      count('Triggered', 'ckpt-total', c.counts.total), count('Completed', 'ckpt-completed', c.counts.completed),
      count('Failed', 'ckpt-failed', c.counts.failed), count('In progress', 'ckpt-inprogress', c.counts.in_progress),
      count('Restored', 'ckpt-restored', c.counts.restored)),
    h('p', { id: 'ckpt-latest-restore' }, 'Latest restore: ' + (restored ? '#' + restored.id + ' at ' + fmtTime(restored.restore_timestamp) + ' from ' + restored.external_path : 'none')),
    h('h3', {}, 'History'),
    table(['ID', 'Kind', 'Status', 'Triggered', 'Duration', 'Size', 'Path or failure'], hist, 'checkpoints'));
}

async function exceptionsTab(job) {
  const ex = await api('jobs/' + job.jid + '/exceptions');
  const entries = ex.exceptionHistory.entries;
  if (!entries.length) return h('p', { id: 'no-exceptions' }, 'No exceptions.');
  return h('div', {},
    h('h3', {}, 'Root cause'), h('pre', { id: 'root-cause' }, entries[0].exceptionName + ': ' + entries[0].stacktrace),
    h('h3', {}, 'History'),
    table(['Time', 'Exception', 'Task', 'Location'], entries.map(e => h('tr', { class: 'exception' },
      h('td', {}, fmtTime(e.timestamp)), h('td', {}, h('pre', {}, e.exceptionName + ': ' + e.stacktrace)), h('td', {}, e.taskName || ''), h('td', {}, e.location || '')))));
}

function configTab(plan) {
  const cfg = plan.config || {};
  const keys = Object.keys(cfg).sort();
  return h('div', {},
    h('p', {}, 'Max parallelism ' + plan.maxParallelism + (plan.bounded ? ' · bounded' : ' · unbounded') + ' · fingerprint ' + (plan.fingerprint || '')),
    table(['Key', 'Value'], keys.map(k => h('tr', {}, h('td', {}, k), h('td', {}, cfg[k]))), 'config'));
}

async function taskManagersPage() {
  const tms = (await api('taskmanagers')).taskmanagers;
  show(h('h1', {}, 'TaskManagers'),
    table(['ID', 'Address', 'Slots', 'Free slots', 'Last heartbeat'], tms.map(t => h('tr', { class: 'taskmanager' },
      h('td', {}, h('a', { href: '#taskmanagers/' + t.id }, t.id)), h('td', {}, t.path), h('td', { class: 'num' }, t.slotsNumber),
      h('td', { class: 'num' }, t.freeSlots), h('td', {}, fmtTime(t.timeSinceLastHeartbeat)))), 'taskmanagers'));
}

async function taskManagerPage(id) {
  const [d, log] = await Promise.all([api('taskmanagers/' + id), fetch('taskmanagers/' + id + '/log').then(r => r.ok ? r.text() : '')]);
  const m = d.metrics;
  const gc = m.garbageCollectors[0] || { count: 0, time: 0 };
  const card = (label, cid, v) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id: cid }, v));
  show(h('h1', { id: 'tm-id' }, 'TaskManager ' + d.id),
    h('p', {}, d.path + ' · ' + d.slotsNumber + ' slots, ' + d.freeSlots + ' free'),
    h('div', { class: 'cards' }, card('Heap used', 'tm-heap', fmtBytes(m.heapUsed)), card('RSS', 'tm-rss', fmtBytes(m.rss)),
      card('Goroutines', 'tm-goroutines', m.goroutines), card('GC', 'tm-gc', gc.count + ' runs, ' + gc.time + ' ms paused')),
    h('h2', {}, 'Job processes'),
    table(['Job', 'Heap', 'RSS', 'Goroutines', 'Subtasks'], d.jobs.map(j => h('tr', {},
      h('td', {}, h('a', { href: '#jobs/' + j.jid }, j.name)), h('td', {}, fmtBytes(j.heapUsed)), h('td', {}, fmtBytes(j.rss)),
      h('td', {}, j.goroutines), h('td', {}, j.subtasks.join(', ')))), 'tm-jobs'),
    h('h2', {}, 'Log'),
    h('pre', { id: 'tm-log', class: 'log' }, log || 'Nothing reported yet: the TaskManager sends the tail of its log (and its job processes\') with each heartbeat.'));
}

async function configPage() {
  const [entries, cfg] = await Promise.all([api('jobmanager/config'), api('config')]);
  show(h('h1', {}, 'JobManager configuration'),
    h('p', {}, cfg['flink-version'] + ' · refresh every ' + cfg['refresh-interval'] + ' ms'),
    table(['Key', 'Value'], entries.map(e => h('tr', {}, h('td', {}, e.key), h('td', {}, e.value))), 'config'));
}

// ---- actions ------------------------------------------------------------

function confirmAction(kind, job) {
  const text = {
    cancel: 'Cancel job "' + job.name + '"? Its state since the last checkpoint is lost.',
    savepoint: 'Trigger a savepoint of job "' + job.name + '"?',
    stop: 'Stop job "' + job.name + '" with a savepoint? The job ends once the savepoint is written.',
  }[kind];
  const modal = document.getElementById('confirm');
  const dir = document.getElementById('confirm-dir');
  document.getElementById('confirm-text').textContent = text;
  dir.hidden = kind === 'cancel';
  dir.value = '';
  modal.hidden = false;
  const done = () => { modal.hidden = true; ok.onclick = null; back.onclick = null; };
  const ok = document.getElementById('confirm-ok'), back = document.getElementById('confirm-cancel');
  back.onclick = done;
  ok.onclick = async () => {
    done();
    const out = document.getElementById('action-result');
    out.dataset.job = job.jid;
    try {
      if (kind === 'cancel') {
        await api('jobs/' + job.jid + '?mode=cancel', { method: 'PATCH' });
        out.textContent = 'Cancellation requested.';
      } else {
        const body = kind === 'stop' ? { targetDirectory: dir.value || undefined, drain: false } : { 'target-directory': dir.value || undefined, 'cancel-job': false };
        const r = await api('jobs/' + job.jid + (kind === 'stop' ? '/stop' : '/savepoints'), {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        out.textContent = (kind === 'stop' ? 'Stop' : 'Savepoint') + ' triggered: ' + r['request-id'];
        pollSavepoint(job.jid, r['request-id'], out);
      }
    } catch (e) {
      out.textContent = 'Failed: ' + e.message;
    }
    refresh();
  };
}

async function pollSavepoint(jid, trigger, out) {
  for (let i = 0; i < 600; i++) {
    const s = await api('jobs/' + jid + '/savepoints/' + trigger).catch(() => null);
    if (s && s.status.id === 'COMPLETED') {
      out.textContent = s.operation['failure-cause'] ? 'Savepoint failed: ' + s.operation['failure-cause']['stack-trace'] : 'Savepoint written to ' + s.operation.location;
      return;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

// ---- router -------------------------------------------------------------

async function route() {
  const hash = location.hash.replace(/^#/, '') || 'overview';
  const parts = hash.split('/');
  state.route = hash;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.id === 'nav-' + parts[0]);
  try {
    if (parts[0] === 'jobs' && parts[1]) await jobPage(parts[1], parts[2] || 'graph');
    else if (parts[0] === 'taskmanagers' && parts[1]) await taskManagerPage(parts[1]);
    else if (parts[0] === 'taskmanagers') await taskManagersPage();
    else if (parts[0] === 'config') await configPage();
    else await overviewPage();
    document.body.dataset.loaded = hash;
  } catch (e) {
    show(banner(e));
  }
}

function refresh() {
  if (document.getElementById('confirm').hidden) route();
}

async function start() {
  try {
    const cfg = await api('config');
    state.refresh = cfg['refresh-interval'] || 3000;
    document.getElementById('version').textContent = cfg['flink-version'];
  } catch (e) { /* keep the default */ }
  window.addEventListener('hashchange', route);
  await route();
  state.timer = setInterval(refresh, state.refresh);
}

start();
