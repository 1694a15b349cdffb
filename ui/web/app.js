// flowlab ui: the single page over the JSON API (ui/api.h). Plain DOM, no framework, no network
// beyond this server. Every value from the store is put in the page as text (textContent), never
// parsed as HTML; charts are SVG images drawn by the server.
'use strict';

// A JavaScript error anywhere shows in a red banner (and the browser test fails on it).
function reportError(message) {
  const box = document.getElementById('js-errors');
  if (!box) return;
  box.hidden = false;
  box.textContent += (box.textContent ? '\n' : '') + message;
}
window.addEventListener('error', (e) => reportError('JavaScript error: ' + e.message));
window.addEventListener('unhandledrejection', (e) => reportError('JavaScript error: ' + (e.reason && e.reason.message || e.reason)));

// ---------------------------------------------------------------------------------------------
// Small helpers

// el('td', {class: 'num'}, 'text', child, ...): children are nodes or text (never HTML).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

class HttpError extends Error {
  constructor(status, body) {
    super(body && body.error || ('HTTP ' + status));
    this.status = status;
    this.body = body;
  }
}

async function api(path) {
  const response = await fetch(path, {headers: {'Accept': 'application/json'}});
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, body);
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return q.toString();
}

function pad(n) { return String(n).padStart(2, '0'); }
function formatTime(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function formatDuration(s) {
  if (s === null || s === undefined || !isFinite(s)) return '';
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
}
function formatNumber(v) {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return Number(v.toPrecision(5)).toString();
}
function duration(run) {
  const end = run.end_time !== null && run.end_time !== undefined ? run.end_time
    : (run.status === 'RUNNING' ? Date.now() / 1000 : null);
  return end === null ? null : end - run.start_time;
}
function statusBadge(status) { return el('span', {class: 'status ' + status}, status); }

// A key as the filter grammar reads it, every segment in backquotes (a backquote doubled).
function quoted(segment) { return '`' + segment.replace(/`/g, '``') + '`'; }
function metricField(name) {
  const dot = name.indexOf('.');
  return 'metrics.' + quoted(name.slice(0, dot)) + '.' + quoted(name.slice(dot + 1));
}
function paramField(key) { return 'params.' + quoted(key); }

// The hash route: "#/run/12" -> {path: ['run', '12'], params: {}}.
function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search] = hash.split('?');
  return {path: path.split('/').filter(Boolean), params: Object.fromEntries(new URLSearchParams(search || ''))};
}
function go(path, params) {
  const q = query(params || {});
  location.hash = '#' + path + (q ? '?' + q : '');
}

let pollTimer = null;
function stopPolling() { if (pollTimer) clearTimeout(pollTimer); pollTimer = null; }

// Each navigation bumps this; a view still loading when the user moved on sees a newer value
// after its await and stops (no painting over the new page, no timers left behind).
let generation = 0;
function stale(mine) { return mine !== generation; }
function setLive(text) { document.getElementById('live').textContent = text; }
function ready(view) { document.body.dataset.ready = view; }

// ---------------------------------------------------------------------------------------------
// Runs

// Which columns to show: the user's comma-separated list (metrics.*, params.train.*, exact keys),
// else the page's three most common metrics and the params that differ between its runs (at most
// five).
function chooseColumns(spec, page) {
  const metrics = page.metric_keys.map((k) => 'metrics.' + k);
  const params = page.param_keys.map((k) => 'params.' + k);
  if (!spec.trim()) return [...metrics.slice(0, 3), ...page.varying_params.slice(0, 5).map((k) => 'params.' + k)];
  const chosen = [];
  for (const raw of spec.split(',')) {
    const pattern = raw.trim().replace(/^param\./, 'params.').replace(/^metric\./, 'metrics.');
    if (!pattern) continue;
    const re = new RegExp('^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
    for (const c of [...metrics, ...params]) if (re.test(c) && !chosen.includes(c)) chosen.push(c);
  }
  return chosen;
}

// Own keys only: a run without a param named "constructor" must not show Object's.
function own(map, key) { return Object.hasOwn(map, key) ? map[key] : undefined; }

function columnValue(run, column) {
  if (column.startsWith('metrics.')) return own(run.metrics, column.slice(8));
  return own(run.params, column.slice(7));
}

function sortFieldOf(column) {
  if (column.startsWith('metrics.')) return metricField(column.slice(8));
  if (column.startsWith('params.')) return paramField(column.slice(7));
  return column;
}

async function runsView(params) {
  const app = document.getElementById('app');
  const state = {filter: params.filter || '', sort: params.sort || '', offset: Number(params.offset || 0),
    columns: params.columns || '', expanded: new Set(), selected: new Set()};
  const filterInput = el('input', {type: 'text', id: 'filter', value: state.filter, spellcheck: 'false',
    placeholder: "metrics.eval.accuracy > 0.9 and params.train.lr = '0.01'", 'aria-label': 'filter'});
  const columnsInput = el('input', {type: 'text', id: 'columns', value: state.columns, spellcheck: 'false',
    placeholder: 'columns: metrics.*, params.train.*', 'aria-label': 'columns'});
  const errorBox = el('pre', {class: 'error-box', id: 'filter-error', hidden: true});
  const table = el('table', {class: 'grid', id: 'runs'});
  const summary = el('span', {class: 'muted', id: 'runs-summary'});
  const compareButton = el('button', {id: 'compare-selected', disabled: true, onclick: () => {
    go('/compare', {runs: [...state.selected].join(',')});
  }}, 'Compare selected');
  const prev = el('button', {id: 'prev', onclick: () => navigate({offset: Math.max(0, state.offset - 100)})}, '‹ Prev');
  const next = el('button', {id: 'next', onclick: () => navigate({offset: state.offset + 100})}, 'Next ›');
  function navigate(change) {
    go('/', {filter: state.filter, sort: state.sort, columns: state.columns, offset: state.offset, ...change});
  }
  const form = el('form', {class: 'filter', onsubmit: (e) => {
    e.preventDefault();
    navigate({filter: filterInput.value, columns: columnsInput.value, offset: 0});
  }}, filterInput, el('button', {class: 'primary', type: 'submit'}, 'Search'));
  app.replaceChildren(form, errorBox,
    el('div', {class: 'toolbar'}, columnsInput, compareButton, el('span', {class: 'grow'}), summary,
      el('span', {class: 'pager'}, prev, next)),
    table);

  let page = null;
  const mine = generation;
  async function load() {
    stopPolling();
    let fresh;
    try {
      fresh = await api('/api/runs?' + query({filter: state.filter, sort: state.sort, offset: state.offset, limit: 100}));
      if (stale(mine)) return;
      page = fresh;
    } catch (e) {
      if (stale(mine)) return;
      if (e.status === 400) {
        errorBox.hidden = false;
        errorBox.textContent = e.message;
        table.replaceChildren();
        summary.textContent = '';
        ready('runs-error');
        return;
      }
      throw e;
    }
    // An empty answer says which names no run recorded (with a did-you-mean).
    errorBox.hidden = !page.notes.length;
    errorBox.textContent = page.notes.join('\n');
    const children = new Map();
    for (const id of state.expanded) {
      const kids = await api('/api/runs?' + query({parent: id, sort: state.sort, limit: 1000}));
      children.set(id, kids.runs);
    }
    if (stale(mine)) return;
    render(children);
    const running = page.runs.some((r) => r.status === 'RUNNING') ||
      [...children.values()].some((rs) => rs.some((r) => r.status === 'RUNNING'));
    setLive(running ? 'live · updated ' + formatTime(Date.now() / 1000).slice(11) : '');
    if (running) pollTimer = setTimeout(() => load().catch((e) => reportError(e.message)), 3000);
    ready('runs');
  }

  function render(children) {
    const columns = chooseColumns(state.columns, page);
    const heads = [['id', 'id', true], ['name', 'name'], ['experiment', 'experiment'], ['status', 'status'],
      ['started', 'start_time'], ['duration', 'duration', true],
      ...columns.map((c) => [c, sortFieldOf(c), c.startsWith('metrics.')])];
    const headRow = el('tr', {}, el('th', {}, ''));
    for (const [label, field, numeric] of heads) {
      const arrow = state.sort === field ? ' ▲' : state.sort === '-' + field ? ' ▼' : '';
      headRow.append(el('th', {class: 'sortable' + (numeric ? ' num' : ''), title: 'sort by ' + field,
        dataset: {field}, onclick: () => navigate({sort: state.sort === '-' + field ? field : '-' + field, offset: 0})},
      label + arrow));
    }
    const body = el('tbody');
    const row = (run, child) => {
      const kids = run.children ? Object.values(run.children).reduce((a, b) => a + b, 0) : 0;
      const box = el('input', {type: 'checkbox', 'aria-label': 'select run ' + run.id, checked: state.selected.has(run.id),
        onchange: (e) => {
          if (e.target.checked) state.selected.add(run.id); else state.selected.delete(run.id);
          compareButton.disabled = state.selected.size < 2;
        }});
      const fold = kids ? el('button', {class: 'fold', title: 'show this sweep\'s runs', onclick: () => {
        if (state.expanded.has(run.id)) state.expanded.delete(run.id); else state.expanded.add(run.id);
        load().catch((e) => reportError(e.message));
      }}, (state.expanded.has(run.id) ? '▾ ' : '▸ ') + kids + ' runs') : null;
      const tr = el('tr', {class: child ? 'child' : '', dataset: {runId: run.id}},
        el('td', {}, box),
        el('td', {class: 'num'}, run.id),
        el('td', {}, el('a', {href: '#/run/' + run.id, class: 'run-name'}, run.name), fold ? ' ' : '', fold),
        el('td', {}, run.experiment),
        el('td', {}, statusBadge(run.status)),
        el('td', {}, formatTime(run.start_time)),
        el('td', {class: 'num'}, formatDuration(duration(run))));
      for (const c of columns) {
        const v = columnValue(run, c);
        tr.append(el('td', {class: c.startsWith('metrics.') ? 'num' : '', dataset: {column: c}}, formatNumber(v)));
      }
      body.append(tr);
      for (const kid of children.get(run.id) || []) row(kid, true);
    };
    for (const run of page.runs) row(run, false);
    table.replaceChildren(el('thead', {}, headRow), body);
    const from = page.total ? page.offset + 1 : 0;
    summary.textContent = `${from}–${page.offset + page.runs.length} of ${page.total.toLocaleString('en')} ` +
      (page.folded ? 'top-level runs (sweeps folded)' : 'runs');
    prev.disabled = page.offset === 0;
    next.disabled = page.offset + page.runs.length >= page.total;
    compareButton.disabled = state.selected.size < 2;
  }
  await load();
}

// ---------------------------------------------------------------------------------------------
// One run

// YAML as text with its keys, strings, numbers and comments in spans (never HTML).
function highlightYaml(text) {
  const pre = el('pre', {class: 'yaml', id: 'spec'});
  for (const line of text.split('\n')) {
    const m = line.match(/^(\s*(?:-\s+)?)([^\s#'"][^:#]*:)(?=\s|$)(.*)$/);
    let rest = line;
    if (m) {
      pre.append(m[1], el('span', {class: 'y-key'}, m[2]));
      rest = m[3];
    }
    const c = rest.match(/^(.*?)(\s#.*)?$/);
    const value = c[1];
    const trimmed = value.trim();
    let cls = null;
    if (/^(['"]).*\1$/.test(trimmed)) cls = 'y-str';
    else if (/^[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.inf|\.nan)$/.test(trimmed)) cls = 'y-num';
    else if (/^(true|false|null|~)$/.test(trimmed)) cls = 'y-bool';
    pre.append(cls ? el('span', {class: cls}, value) : value);
    if (c[2]) pre.append(el('span', {class: 'y-com'}, c[2]));
    pre.append('\n');
  }
  return pre;
}

function kvTable(id, entries, numeric) {
  const body = el('tbody');
  for (const [k, v] of entries) body.append(el('tr', {}, el('td', {}, k), el('td', {class: numeric ? 'num' : ''}, v)));
  if (!entries.length) body.append(el('tr', {}, el('td', {class: 'muted', colspan: 2}, 'none')));
  return el('table', {class: 'grid', id}, body);
}

// Positions are set through the style object: the page's Content-Security-Policy refuses style
// attributes.
function bar(n, left, width) {
  const b = el('div', {class: 'bar ' + n.status + (n.cache_hit ? ' cached' : '')});
  b.style.left = left.toFixed(3) + '%';
  b.style.width = width.toFixed(3) + '%';
  return b;
}

function gantt(nodes) {
  const box = el('div', {class: 'gantt', id: 'timeline'});
  if (!nodes.length) return el('p', {class: 'muted'}, 'no node ran');
  const t0 = Math.min(...nodes.map((n) => n.start_time));
  const t1 = Math.max(...nodes.map((n) => n.end_time), t0 + 1e-3);
  for (const n of nodes) {
    const left = 100 * (n.start_time - t0) / (t1 - t0);
    const width = 100 * Math.max(n.end_time - n.start_time, 0) / (t1 - t0);
    const title = `${n.node} (${n.op}) ${n.status}${n.cache_hit ? ', from cache' : ''}: ${formatDuration(n.end_time - n.start_time)}`;
    box.append(el('div', {class: 'lane', title, dataset: {node: n.node}},
      el('span', {class: 'label'}, n.node, ' ', el('span', {class: 'muted'}, n.op)),
      el('div', {class: 'track'}, bar(n, left, width)),
      el('span', {class: 'secs'}, (n.cache_hit ? 'cached · ' : '') + formatDuration(n.end_time - n.start_time))));
  }
  return box;
}

// A chart drawn by the server; data-loaded says it arrived (the browser test checks it).
function chartImage(id, alt) {
  const img = el('img', {class: 'chart', id, alt});
  img.addEventListener('load', () => { img.dataset.loaded = '1'; });
  return img;
}

// A step chart with smoothing and log-axis controls, for `runs` and one series.
function historyChart(runs, series) {
  const img = chartImage('history-chart', 'metric against step');
  const select = el('select', {id: 'chart-series', 'aria-label': 'metric'});
  for (const s of series) select.append(el('option', {value: s.node + '\u0000' + s.key}, s.node + '.' + s.key));
  const smooth = el('input', {type: 'range', id: 'smooth', min: 0, max: 0.99, step: 0.01, value: 0});
  const smoothLabel = el('span', {class: 'muted'}, '0');
  const logy = el('input', {type: 'checkbox', id: 'logy'});
  function draw() {
    const [node, key] = select.value.split('\u0000');
    smoothLabel.textContent = smooth.value;
    img.src = '/api/chart/history.svg?' + query({runs: runs.join(','), node, key, smooth: smooth.value,
      logy: logy.checked ? 1 : 0});
  }
  for (const c of [select, smooth, logy]) c.addEventListener('change', draw);
  smooth.addEventListener('input', () => { smoothLabel.textContent = smooth.value; });
  if (series.length) draw();
  return el('div', {},
    el('div', {class: 'chart-controls'}, el('label', {}, 'metric ', select),
      el('label', {}, 'smoothing ', smooth, ' ', smoothLabel), el('label', {}, logy, ' log y')),
    series.length ? img : el('p', {class: 'muted'}, 'no metric was logged'));
}

// The sweep chart: a metric (or a family, NODE.KEY@*) against a param over the children.
function sweepChart(parentId, page) {
  const img = chartImage('sweep-chart', 'metric against a param');
  const families = new Set(page.metric_keys.filter((k) => /@[-+0-9.eE]+$/.test(k)).map((k) => k.replace(/@[^@]*$/, '@*')));
  const ys = [...page.metric_keys.filter((k) => !/@[-+0-9.eE]+$/.test(k)), ...families];
  const y = el('select', {id: 'sweep-y', 'aria-label': 'y'}, ys.map((k) => el('option', {value: k}, k)));
  const x = el('select', {id: 'sweep-x', 'aria-label': 'x'}, page.varying_params.map((k) => el('option', {value: k}, k)));
  const group = el('select', {id: 'sweep-group', 'aria-label': 'group'}, el('option', {value: ''}, '(none)'),
    page.varying_params.map((k) => el('option', {value: k}, k)));
  const logx = el('input', {type: 'checkbox', id: 'logx'});
  const logy = el('input', {type: 'checkbox', id: 'sweep-logy'});
  const error = el('pre', {class: 'error-box', hidden: true});
  function draw() {
    error.hidden = true;
    const family = y.value.endsWith('@*');
    x.disabled = family;
    img.src = '/api/chart/sweep.svg?' + query({parent: parentId, y: y.value, x: family ? '' : x.value,
      group: group.value, logx: logx.checked ? 1 : 0, logy: logy.checked ? 1 : 0});
  }
  img.addEventListener('error', async () => {
    const r = await fetch(img.src);
    const body = await r.json().catch(() => ({error: 'the chart could not be drawn'}));
    error.hidden = false;
    error.textContent = body.error;
  });
  for (const c of [y, x, group, logx, logy]) c.addEventListener('change', draw);
  if (ys.length && (page.varying_params.length || families.size)) draw();
  return el('div', {},
    el('div', {class: 'chart-controls'}, el('label', {}, 'y ', y), el('label', {}, 'x ', x),
      el('label', {}, 'group ', group), el('label', {}, logx, ' log x'), el('label', {}, logy, ' log y')),
    error, img);
}

async function runView(id) {
  const app = document.getElementById('app');
  const mine = generation;
  const d = await api('/api/runs/' + encodeURIComponent(id));
  if (stale(mine)) return;
  const r = d.run;
  const meta = [['id', r.id], ['uuid', r.uuid], ['experiment', r.experiment],
    ['parent', r.parent_id === null ? '' : el('a', {href: '#/run/' + r.parent_id}, 'run ' + r.parent_id)],
    ['started', formatTime(r.start_time)], ['ended', formatTime(r.end_time)],
    ['duration', formatDuration(duration(r))], ['seed', r.seed], ['host', r.host], ['pid', r.pid],
    ['spec', r.spec_file], ['overrides', r.overrides.join(' ')], ['git commit', r.git_commit],
    ['flowlab', r.flowlab_version]];
  const dl = el('dl', {class: 'meta'});
  for (const [k, v] of meta) dl.append(el('dt', {}, k), el('dd', {}, v));
  const parts = [el('h1', {}, el('span', {id: 'run-name'}, r.name), statusBadge(r.status)), dl];
  if (r.error) parts.push(el('section', {}, el('h2', {}, 'Error'), el('pre', {class: 'error-box', id: 'run-error'}, r.error)));

  const curves = d.metrics.filter((m) => m.points > 1);
  if (curves.length) parts.push(el('section', {}, el('h2', {}, 'Curves'), historyChart([r.id], curves)));
  if (d.children.length) {
    const page = await api('/api/runs?' + query({parent: r.id, limit: 1000}));
    if (stale(mine)) return;
    parts.push(el('section', {}, el('h2', {}, `Sweep: ${d.children.length} runs`), sweepChart(r.id, page)));
    parts.push(el('section', {}, el('h2', {}, 'Runs of this sweep'),
      el('p', {}, el('a', {href: '#/?' + query({filter: 'parent_id = ' + r.id})}, 'open in the runs table'))));
  }
  const metricRows = d.metrics.map((m) => [m.node + '.' + m.key, formatNumber(m.value)]);
  parts.push(el('div', {class: 'columns2'},
    el('section', {}, el('h2', {}, 'Metrics (final values)'), kvTable('metrics', metricRows, true)),
    el('section', {}, el('h2', {}, 'Params'), kvTable('params', Object.entries(d.params), false),
      Object.keys(d.tags).length ? el('h2', {class: 'spaced'}, 'Tags') : null,
      Object.keys(d.tags).length ? kvTable('tags', Object.entries(d.tags), false) : null)));
  parts.push(el('section', {}, el('h2', {}, 'Node timeline'), gantt(d.nodes)));
  const artifacts = el('tbody');
  for (const a of d.artifacts) {
    const url = '/api/runs/' + r.id + '/artifact?' + query({path: a.path});
    artifacts.append(el('tr', {},
      el('td', {}, a.available ? el('a', {href: url, download: a.name, class: 'artifact'}, a.name)
        : el('span', {class: 'muted', title: 'not servable: missing, a symbolic link, or outside the workspace'}, a.name)),
      el('td', {}, a.node), el('td', {}, a.kind), el('td', {class: 'num'}, formatNumber(a.size)),
      el('td', {class: 'muted'}, a.path)));
  }
  if (!d.artifacts.length) artifacts.append(el('tr', {}, el('td', {class: 'muted'}, 'none')));
  parts.push(el('section', {}, el('h2', {}, 'Artifacts'), el('table', {class: 'grid', id: 'artifacts'}, artifacts)));
  parts.push(el('section', {}, el('h2', {}, 'Composed spec'), highlightYaml(r.spec || '')));
  app.replaceChildren(...parts);
  setLive(r.status === 'RUNNING' ? 'live · updated ' + formatTime(Date.now() / 1000).slice(11) : '');
  if (r.status === 'RUNNING') pollTimer = setTimeout(() => render().catch((e) => reportError(e.message)), 5000);
  ready('run');
}

// ---------------------------------------------------------------------------------------------
// Compare

async function compareView(params) {
  const app = document.getElementById('app');
  const ids = (params.runs || '').split(',').filter(Boolean);
  if (ids.length < 2) {
    app.replaceChildren(el('p', {}, 'Pick two or more runs in the ', el('a', {href: '#/'}, 'runs table'),
      ' (the boxes at the left) and press "Compare selected".'));
    ready('compare');
    return;
  }
  const mine = generation;
  const d = await api('/api/compare?' + query({runs: ids.join(',')}));
  if (stale(mine)) return;
  const onlyDiff = el('input', {type: 'checkbox', id: 'only-differences', checked: true});
  const table = el('table', {class: 'grid', id: 'compare'});
  // Rows: params and tags (marked where the runs differ), then every metric.
  const rows = [];
  for (const kind of ['params', 'tags', 'metrics'])
    for (const [key, values] of Object.entries(d[kind])) {
      const distinct = new Set(d.runs.map((r) => JSON.stringify(own(values, r.id) ?? null)));
      rows.push({field: kind + '.' + key, metric: kind === 'metrics', differs: distinct.size > 1, values});
    }
  function render() {
    const head = el('tr', {}, el('th', {}, 'field'),
      d.runs.map((r) => el('th', {}, el('a', {href: '#/run/' + r.id}, `${r.id} ${r.name}`))));
    const body = el('tbody');
    body.append(el('tr', {}, el('td', {}, 'status'), d.runs.map((r) => el('td', {}, statusBadge(r.status)))));
    for (const row of rows) {
      if (onlyDiff.checked && !row.differs && !row.metric) continue;
      body.append(el('tr', {class: row.differs && !row.metric ? 'differs' : '', dataset: {field: row.field}},
        el('td', {}, row.field),
        d.runs.map((r) => el('td', {class: row.metric ? 'num' : ''},
          row.metric ? formatNumber(own(row.values, r.id)) : (own(row.values, r.id) ?? '')))));
    }
    table.replaceChildren(el('thead', {}, head), body);
  }
  onlyDiff.addEventListener('change', render);
  render();
  app.replaceChildren(el('h1', {}, `Comparing ${d.runs.length} runs`),
    el('div', {class: 'toolbar'}, el('label', {}, onlyDiff, ' only params that differ')), table,
    d.series.length ? el('section', {}, el('h2', {}, 'Curves overlaid'), historyChart(d.runs.map((r) => r.id), d.series)) : null);
  ready('compare');
}

// ---------------------------------------------------------------------------------------------
// Routing

async function render() {
  ++generation;
  stopPolling();
  setLive('');
  delete document.body.dataset.ready;
  const {path, params} = route();
  document.getElementById('nav-runs').classList.toggle('active', !path.length);
  document.getElementById('nav-compare').classList.toggle('active', path[0] === 'compare');
  try {
    if (!path.length) await runsView(params);
    else if (path[0] === 'run' && path[1]) await runView(path[1]);
    else if (path[0] === 'compare') await compareView(params);
    else document.getElementById('app').replaceChildren(el('p', {}, 'No such page. ', el('a', {href: '#/'}, 'All runs')));
  } catch (e) {
    document.getElementById('app').replaceChildren(el('pre', {class: 'error-box', id: 'page-error'}, e.message));
    ready('error');
  }
}

window.addEventListener('hashchange', () => render().catch((e) => reportError(e.message)));
render().catch((e) => reportError(e.message));
