// RecApp console: plain DOM and inline SVG, no dependencies. Data is always set as text (never parsed as HTML):
// item titles and experiment settings come from users of the API.
const KEY = 'recapp.adminKey';
const COLORS = ['#2f6fde', '#e07b39', '#1e8e5a', '#8e44ad', '#c0392b', '#16a2b8', '#7f8c8d'];
const $ = (id) => document.getElementById(id);

// ---- DOM and formatting -------------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick') node.addEventListener('click', value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined).map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const int = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
const pct = (r, digits = 1) => (r === null || r === undefined ? '–' : (100 * r).toFixed(digits) + '%');
const num = (n, digits = 4) => (n === null || n === undefined ? '–' : Number(n).toFixed(digits));
const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace(/(\+00:00|Z)$/, ' UTC') : '–');
const ms = (n) => (n === null || n === undefined ? '–' : n >= 10000 ? (n / 1000).toFixed(1) + ' s' : int(n) + ' ms');

function table(columns, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { class: c.num ? 'num' : null }, c.title)))),
    el('tbody', {}, rows.map((row) => el('tr', {}, columns.map((c) => el('td', { class: c.num ? 'num' : null }, c.value(row)))))));
}

function figures(target, pairs) {
  target.replaceChildren(...pairs.map(([label, value, id]) =>
    el('div', { class: 'figure', id }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label))));
}

function legend(entries) {
  return el('div', { class: 'legend' }, entries.map(([name, color]) => {
    const span = el('span', {}, name);
    span.style.setProperty('--swatch', color);
    return span;
  }));
}

// ---- Charts (inline SVG) ------------------------------------------------------------------------------------------

/** Vertical bars with optional interval whiskers: bars = [{label, value, low?, high?, color?, title?}]. */
function barChart(bars, { width = 640, height = 220, format = (v) => v, max } = {}) {
  const pad = { left: 56, right: 10, top: 10, bottom: 46 };
  const top = max ?? Math.max(1e-9, ...bars.map((b) => Math.max(b.value, b.high ?? 0)));
  const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
  const y = (v) => pad.top + plotH - (plotH * Math.min(v, top)) / top;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
  for (const t of [0, 0.5, 1]) {
    svg.append(s('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(top * t), y2: y(top * t) }));
    svg.append(s('text', { x: pad.left - 6, y: y(top * t) + 4, 'text-anchor': 'end' }, format(top * t)));
  }
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.min(48, slot * 0.7);
  bars.forEach((b, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    const rect = s('rect', { x, y: y(b.value), width: barW, height: Math.max(0, y(0) - y(b.value)), fill: b.color ?? COLORS[0], class: 'bar' });
    rect.append(s('title', {}, b.title ?? `${b.label}: ${format(b.value)}`));
    svg.append(rect);
    if (b.low !== undefined && b.high !== undefined) {
      const cx = x + barW / 2;
      svg.append(s('line', { x1: cx, x2: cx, y1: y(b.high), y2: y(b.low), stroke: '#1d2330', 'stroke-width': 1.5, class: 'whisker' }));
      for (const v of [b.low, b.high]) svg.append(s('line', { x1: cx - 6, x2: cx + 6, y1: y(v), y2: y(v), stroke: '#1d2330', 'stroke-width': 1.5 }));
    }
    if (bars.length <= 16 || i % Math.ceil(bars.length / 16) === 0) {
      svg.append(s('text', { x: x + barW / 2, y: height - pad.bottom + 14, 'text-anchor': 'middle' }, b.label));
    }
    if (b.sublabel) svg.append(s('text', { x: x + barW / 2, y: height - pad.bottom + 28, 'text-anchor': 'middle' }, b.sublabel));
  });
  return svg;
}

/** Lines over a shared x axis: series = [{name, color, points: [{x: Date|number, y: number|null}]}]. */
function lineChart(series, { width = 900, height = 240, max = 1, format = (v) => v, xFormat = (x) => x } = {}) {
  const pad = { left: 48, right: 12, top: 10, bottom: 28 };
  const xs = series.flatMap((line) => line.points.map((p) => +p.x));
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
  const x = (v) => pad.left + (plotW * (+v - x0)) / (x1 - x0);
  const y = (v) => pad.top + plotH - (plotH * v) / max;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y(max * t), y2: y(max * t) }));
    svg.append(s('text', { x: pad.left - 6, y: y(max * t) + 4, 'text-anchor': 'end' }, format(max * t)));
  }
  if (xs.length) {
    svg.append(s('text', { x: pad.left, y: height - 8 }, xFormat(x0)));
    svg.append(s('text', { x: width - pad.right, y: height - 8, 'text-anchor': 'end' }, xFormat(x1)));
  }
  for (const line of series) {
    // A gap (null) breaks the line: no reads in that interval is not a rate of zero.
    let d = '', pen = 'M';
    for (const p of line.points) {
      if (p.y === null || p.y === undefined) { pen = 'M'; continue; }
      d += `${pen}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)} `;
      pen = 'L';
      svg.append(s('circle', { cx: x(p.x), cy: y(p.y), r: 2.5, fill: line.color }));
    }
    svg.append(s('path', { d, fill: 'none', stroke: line.color, 'stroke-width': 2, class: 'series', 'data-name': line.name }));
  }
  return svg;
}

/** Horizontal score bars for ranked lists. */
function scoreBar(score, top) {
  const svg = s('svg', { width: 120, height: 10, class: 'score-bar' });
  svg.append(s('rect', { x: 0, y: 1, width: Math.max(1, (118 * score) / (top || 1)), height: 8, fill: COLORS[0] }));
  return svg;
}

// ---- The API ------------------------------------------------------------------------------------------------------

class SignedOut extends Error {}

async function api(path, { method = 'GET', body, key = sessionStorage.getItem(KEY) } = {}) {
  const headers = { 'X-Admin-Key': key ?? '' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 || response.status === 403) {
    throw new SignedOut(response.status === 403 ? 'Admin endpoints are disabled on this server (Admin:ApiKey is not set).' : 'The admin key was refused.');
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const fields = data?.errors ? Object.entries(data.errors).map(([f, m]) => `${f}: ${m.join(' ')}`).join('; ') : '';
    throw new Error(fields || data?.detail || data?.title || `HTTP ${response.status}`);
  }
  return data;
}

// ---- Sign-in and navigation ---------------------------------------------------------------------------------------

let refreshTimer = null;

function showSignedIn(signedIn) {
  $('login').hidden = signedIn;
  $('tabs').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
  if (!signedIn) document.querySelectorAll('.view').forEach((v) => (v.hidden = true));
}

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  clearInterval(refreshTimer);
  showSignedIn(false);
  $('login-error').textContent = message;
  $('admin-key').value = '';
  $('admin-key').focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = $('admin-key').value;
  $('login-error').textContent = '';
  try {
    await api('/admin/console/jobs', { key });
  } catch (error) {
    $('login-error').textContent = error instanceof SignedOut ? error.message : `Could not reach the API: ${error.message}`;
    return;
  }
  sessionStorage.setItem(KEY, key);
  showSignedIn(true);
  route();
}

const views = { overview: showOverview, cache: showCache, experiments: showExperiments, users: showUsers, items: showItems };

async function route() {
  if (!sessionStorage.getItem(KEY)) return signOut();
  const [name, arg] = (location.hash.slice(1) || 'overview').split('/');
  const view = views[name] ? name : 'overview';
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.view === view));
  document.querySelectorAll('.view').forEach((v) => (v.hidden = v.id !== `view-${view}`));
  clearInterval(refreshTimer);
  try {
    await views[view](arg ? decodeURIComponent(arg) : undefined);
  } catch (error) {
    if (error instanceof SignedOut) signOut(error.message);
    else console.error(error);
  }
}

// ---- Overview -----------------------------------------------------------------------------------------------------

async function showOverview() {
  const [stats, jobs] = await Promise.all([api('/stats'), api('/admin/console/jobs')]);
  const data = stats.data ?? {};
  figures($('overview-counts'), [
    ['items', int(data.items), 'count-items'],
    ['active items', int(data.active_items), 'count-active-items'],
    ['users', int(data.users), 'count-users'],
    [data.interactions_estimated ? 'interactions (estimate)' : 'interactions', int(data.interactions), 'count-interactions'],
    ['model version served', int(stats.model.serving_version), 'model-version'],
    ['items in the catalog', int(stats.model.catalog_items), 'catalog-items'],
  ]);
  $('overview-model').replaceChildren(
    stats.database_error ? el('p', { class: 'error' }, stats.database_error) : '',
    table([
      { title: 'part', value: (p) => p.part },
      { title: 'version', value: (p) => int(p.version), num: true },
      { title: 'current since', value: (p) => when(p.switched_at) },
    ], stats.model.parts, { id: 'model-parts' }));

  const runs = jobs.runs;
  const jobNames = [...new Set(runs.map((r) => r.job))].sort();
  const colorOf = (job) => COLORS[jobNames.indexOf(job) % COLORS.length];
  const chronological = [...runs].reverse().filter((r) => r.duration_ms !== null);
  $('overview-jobs-chart').replaceChildren(
    chronological.length
      ? barChart(chronological.map((r) => ({
          label: r.job.slice(0, 5), value: r.duration_ms, color: r.status === 'succeeded' ? colorOf(r.job) : '#c0392b',
          title: `${r.job} ${r.status} at ${when(r.started_at)}: ${ms(r.duration_ms)}, ${int(r.row_count)} rows`,
        })), { format: (v) => ms(Math.round(v)), width: 720 })
      : el('p', {}, 'No finished job runs yet.'),
    legend([...jobNames.map((j) => [j, colorOf(j)]), ['failed', '#c0392b']]));
  $('overview-jobs').replaceChildren(runs.length ? table([
    { title: 'job', value: (r) => r.job },
    { title: 'status', value: (r) => el('span', { class: `status ${r.status}` }, r.status) },
    { title: 'started', value: (r) => when(r.started_at) },
    { title: 'duration', value: (r) => ms(r.duration_ms), num: true },
    { title: 'rows', value: (r) => int(r.row_count), num: true },
    { title: 'model version', value: (r) => int(r.model_version), num: true },
    { title: 'error', value: (r) => r.error ?? '' },
  ], runs, { id: 'job-runs' }) : el('p', {}, 'No job runs recorded.'));
}

// ---- Cache --------------------------------------------------------------------------------------------------------

async function showCache() {
  const draw = async () => {
    const [history, stats] = await Promise.all([api('/admin/console/cache-history'), api('/stats')]);
    const t = stats.cache.tiers;
    const reads = t.l1_hits + t.l2_hits + t.misses;
    figures($('cache-totals'), [
      ['L1 hits (in process)', int(t.l1_hits), 'tier-l1'],
      ['L2 hits (Redis)', int(t.l2_hits), 'tier-l2'],
      ['misses', int(t.misses), 'tier-misses'],
      ['factory runs', int(t.factory_runs)],
      ['hit rate since start', reads ? pct((t.l1_hits + t.l2_hits) / reads) : '–', 'tier-hit-rate'],
      ['fallback answers (database unreachable)', int(stats.cache.fallbacks), 'fallbacks'],
      ['backplane sent / received', `${int(t.backplane_sent)} / ${int(t.backplane_received)}`],
    ]);
    const samples = history.samples;
    const points = (field) => samples.map((x) => ({ x: new Date(x.at), y: x[field] }));
    const series = [
      { name: 'L1 hit rate', color: COLORS[0], points: points('l1_hit_rate') },
      { name: 'L2 hit rate', color: COLORS[1], points: points('l2_hit_rate') },
      { name: 'miss rate', color: COLORS[4], points: points('miss_rate') },
    ];
    $('cache-chart').replaceChildren(
      samples.length ? lineChart(series, { format: (v) => pct(v, 0), xFormat: (x) => new Date(x).toISOString().slice(11, 19) }) : el('p', {}, 'No samples yet.'),
      legend(series.map((l) => [l.name, l.color])),
      el('p', { class: 'hint' }, `One sample every ${history.interval_seconds} s on the instance that answered; gaps are intervals without reads.`));
    $('cache-samples').replaceChildren(table([
      { title: 'at', value: (x) => when(x.at) },
      { title: 'reads', value: (x) => int(x.reads), num: true },
      { title: 'L1', value: (x) => pct(x.l1_hit_rate), num: true },
      { title: 'L2', value: (x) => pct(x.l2_hit_rate), num: true },
      { title: 'miss', value: (x) => pct(x.miss_rate), num: true },
    ], samples.slice(-12).reverse(), { id: 'cache-sample-table' }));
  };
  await draw();
  refreshTimer = setInterval(() => draw().catch((e) => (e instanceof SignedOut ? signOut(e.message) : console.error(e))), 10000);
}

// ---- Experiments --------------------------------------------------------------------------------------------------

function variantRow(name = '', share = '') {
  return el('div', { class: 'variant' },
    el('label', {}, 'Variant', el('input', { name: 'variant', value: name, required: true })),
    el('label', {}, 'Share %', el('input', { name: 'share', type: 'number', min: 1, max: 99, value: share, required: true })),
    el('label', {}, 'Settings', el('textarea', { name: 'settings', placeholder: 'ContentWeight=0' })));
}

function resetExperimentForm() {
  $('experiment-form').reset();
  $('variant-rows').replaceChildren(variantRow('control', 50), variantRow('b', 50));
}

async function showExperiments(selected) {
  if (!$('variant-rows').children.length) resetExperimentForm();
  const list = await api('/admin/experiments');
  const action = (label, path) => el('button', {
    type: 'button', class: 'secondary', 'data-action': label,
    onclick: async () => {
      try { await api(path, { method: 'POST' }); $('experiment-error').textContent = ''; }
      catch (e) { if (e instanceof SignedOut) return signOut(e.message); $('experiment-error').textContent = e.message; }
      showExperiments(selected);
    },
  }, label);
  $('experiment-list').replaceChildren(list.length ? table([
    { title: 'name', value: (x) => el('a', { href: `#experiments/${encodeURIComponent(x.name)}`, class: 'item-link' }, x.name) },
    { title: 'status', value: (x) => el('span', { class: `status ${x.status}` }, x.status) },
    { title: 'variants', value: (x) => x.variants.map((v) => `${v.name} ${v.share}%`).join(', ') },
    { title: 'started', value: (x) => when(x.started_at) },
    { title: '', value: (x) => x.status === 'running'
        ? action('Stop', `/admin/experiments/${encodeURIComponent(x.name)}/stop`)
        : action('Start', `/admin/experiments/${encodeURIComponent(x.name)}/start`) },
  ], list, { id: 'experiments' }) : el('p', {}, 'No experiments yet.'));
  if (selected) await showResults(selected);
  else $('experiment-results').hidden = true;
}

function settingsOf(text) {
  const settings = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at < 1) throw new Error(`Settings: "${line}" is not Key=Value.`);
    settings[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return settings;
}

async function createExperiment(event) {
  event.preventDefault();
  const form = event.target;
  $('experiment-error').textContent = '';
  try {
    const variants = [...form.querySelectorAll('.variant')].map((row) => ({
      name: row.querySelector('[name=variant]').value.trim(),
      share: Number(row.querySelector('[name=share]').value),
      settings: settingsOf(row.querySelector('[name=settings]').value),
    }));
    const name = form.elements.name.value.trim();
    await api('/admin/experiments', { method: 'POST', body: { name, surface: 'personalized', variants } });
    resetExperimentForm();
    go(`experiments/${encodeURIComponent(name)}`);
  } catch (e) {
    if (e instanceof SignedOut) return signOut(e.message);
    $('experiment-error').textContent = e.message;
  }
}

function rateCells(rate, isControl) {
  const interval = `${pct(rate.rate)} [${pct(rate.low)}, ${pct(rate.high)}]`;
  if (isControl) return [interval, '–', '–'];
  return [interval, rate.relative_lift === null ? '–' : `${rate.relative_lift >= 0 ? '+' : ''}${pct(rate.relative_lift)}`,
    rate.p_value === null ? '–' : `${num(rate.p_value, 3)}${rate.significant ? ' ✓' : ''}`];
}

async function showResults(name) {
  const experiment = await api(`/admin/experiments/${encodeURIComponent(name)}`);
  const results = experiment.results;
  const target = $('experiment-results');
  target.hidden = false;
  if (!results) {
    target.replaceChildren(el('h2', {}, `Results: ${experiment.name}`), el('p', {}, 'No results yet.'));
    return;
  }
  const rows = results.variants;
  const bars = (metric) => rows.map((v, i) => ({
    label: v.variant, sublabel: `n=${int(v.users)}`, value: v[metric].rate, low: v[metric].low, high: v[metric].high,
    color: COLORS[i % COLORS.length], title: `${v.variant}: ${pct(v[metric].rate)} (95% ${pct(v[metric].low)}–${pct(v[metric].high)})`,
  }));
  const top = Math.max(0.01, ...rows.flatMap((v) => [v.ctr.high, v.conversion.high]));
  const winner = (w) => (w ? el('span', { class: 'winner' }, w) : el('span', {}, 'none yet'));
  target.replaceChildren(
    el('h2', {}, `Results: ${experiment.name} `, el('span', { class: `status ${experiment.status}` }, experiment.status)),
    el('p', { id: 'winners' }, 'CTR winner: ', winner(results.ctr_winner), ' · conversion winner: ', winner(results.conversion_winner)),
    el('p', { class: 'hint', id: 'decision-rule' }, `Decision rule: ${results.decision_rule} Attribution window: ${results.attribution_window_hours} h.`),
    table([
      { title: 'variant', value: (v) => v.variant },
      { title: 'users', value: (v) => int(v.users), num: true },
      { title: 'exposures', value: (v) => int(v.exposures), num: true },
      { title: 'CTR [95% CI]', value: (v) => rateCells(v.ctr, v === rows[0])[0], num: true },
      { title: 'CTR lift', value: (v) => rateCells(v.ctr, v === rows[0])[1], num: true },
      { title: 'CTR p', value: (v) => rateCells(v.ctr, v === rows[0])[2], num: true },
      { title: 'conversion [95% CI]', value: (v) => rateCells(v.conversion, v === rows[0])[0], num: true },
      { title: 'conv. lift', value: (v) => rateCells(v.conversion, v === rows[0])[1], num: true },
      { title: 'conv. p', value: (v) => rateCells(v.conversion, v === rows[0])[2], num: true },
      { title: 'engagements / user', value: (v) => num(v.engagements_per_user, 2), num: true },
    ], rows, { id: 'variant-results' }),
    el('div', { class: 'row' },
      el('div', {}, el('h3', {}, 'CTR per variant (95% interval)'), barChart(bars('ctr'), { width: 420, max: top, format: (v) => pct(v, 0) })),
      el('div', {}, el('h3', {}, 'Conversion per variant (95% interval)'), barChart(bars('conversion'), { width: 420, max: top, format: (v) => pct(v, 0) }))),
    el('button', { type: 'button', class: 'secondary', onclick: () => showResults(name) }, 'Refresh results'));
}

// ---- User explorer ------------------------------------------------------------------------------------------------

const itemLink = (id) => el('a', { href: `#items/${id}`, class: 'item-link' }, String(id));

async function showUsers(id) {
  $('user-error').textContent = '';
  if (!id) { $('user-detail').replaceChildren(); return; }
  $('user-form').elements.id.value = id;
  let user;
  try { user = await api(`/admin/console/users/${encodeURIComponent(id)}`); }
  catch (e) { if (e instanceof SignedOut) throw e; $('user-error').textContent = e.message; $('user-detail').replaceChildren(); return; }
  const recs = user.recommendations;
  const topScore = Math.max(0, ...recs.items.map((r) => r.score));
  $('user-detail').replaceChildren(
    el('div', { class: 'figures', id: 'user-figures' },
      ...[['user', user.user_id], ['known', user.known ? 'yes' : 'no (no users row)'],
        ['demographics', [user.gender ?? '?', user.age_group ?? '?', user.geo_id ?? '?'].join(' · ')],
        ['interactions', int(user.interaction_count)], ['tier', user.tier],
        ['experiment', user.experiment ?? 'none']].map(([label, value]) =>
        el('div', { class: 'figure' }, el('div', { class: 'value', 'data-field': label }, value), el('div', { class: 'label' }, label)))),
    el('p', { class: 'hint' }, `Tier rule: ${user.tier_rule} (${user.distinct_items} now).`),
    el('div', { class: 'row' },
      el('div', { class: 'card grow' },
        el('h2', {}, 'Recommendations ', el('span', { class: 'pill', id: 'rec-algorithm' }, recs.algorithm),
          ` model v${recs.model_version} · ${recs.cache_hit ? 'from the cache' : 'computed now'} · ${int(recs.length)} ranked`),
        recs.items.length ? table([
          { title: '#', value: (r) => r.rank, num: true },
          { title: 'item', value: (r) => itemLink(r.item_id) },
          { title: 'title', value: (r) => r.title ?? '' },
          { title: 'category', value: (r) => r.category ?? '' },
          { title: 'score', value: (r) => num(r.score), num: true },
          { title: '', value: (r) => scoreBar(r.score, topScore) },
          { title: 'sources', value: sourcesText },
        ], recs.items, { id: 'user-recommendations' }) : el('p', {}, 'Nothing to recommend.'),
        ...variantLists(user.variants)),
      el('div', { class: 'card grow' },
        el('h2', {}, `History (latest ${user.history.length} of ${int(user.interaction_count)})`),
        user.history.length ? table([
          { title: 'when', value: (h) => when(h.occurred_at) },
          { title: 'event', value: (h) => (h.value === null ? h.type : `${h.type} ${h.value}`) },
          { title: 'item', value: (h) => itemLink(h.item_id) },
          { title: 'title', value: (h) => h.title ?? '' },
          { title: 'category', value: (h) => h.category ?? '' },
        ], user.history, { id: 'user-history' }) : el('p', {}, 'No interactions.'))));
}

/** "content 0.41 · popular 0.12": each source's weighted share of the item's score. */
function sourcesText(r) {
  return (r.sources ?? []).map((s) => `${s.source.replace('_', ' ')} ${num(s.contribution)}`).join(' · ');
}

/** With an experiment running: each variant's list for this user, side by side (the user's own variant marked). */
function variantLists(variants) {
  if (!variants || !variants.length) return [];
  return [el('h3', {}, 'Per variant of the running experiment'),
    el('div', { class: 'row', id: 'user-variants' }, variants.map((v) =>
      el('div', { class: 'grow', 'data-variant': v.variant },
        el('h3', {}, `${v.label} `, el('span', { class: 'pill' }, v.algorithm), v.users_own ? ' (this user)' : ''),
        table([
          { title: '#', value: (r) => r.rank, num: true },
          { title: 'item', value: (r) => itemLink(r.item_id) },
          { title: 'score', value: (r) => num(r.score), num: true },
          { title: 'sources', value: sourcesText },
        ], v.items.slice(0, 10)))))];
}

// ---- Item explorer ------------------------------------------------------------------------------------------------

async function showItems(id) {
  $('item-error').textContent = '';
  if (!id) { $('item-detail').replaceChildren(); return; }
  $('item-form').elements.id.value = id;
  let item;
  try { item = await api(`/admin/console/items/${encodeURIComponent(id)}`); }
  catch (e) { if (e instanceof SignedOut) throw e; $('item-error').textContent = e.message; $('item-detail').replaceChildren(); return; }
  const rank = (r) => (r === null ? `not in the top ${int(item.popular_list_length)}` : `#${r}`);
  $('item-detail').replaceChildren(
    el('div', { class: 'figures', id: 'item-figures' },
      ...[['item', item.item_id], ['title', item.title], ['category', item.category], ['price', item.price],
        ['active', item.active ? 'yes' : 'no'], ['popularity rank', rank(item.popularity_rank)],
        ['rank in category', rank(item.category_popularity_rank)],
        ['interactions / users', `${int(item.interactions)} / ${int(item.users)}`]].map(([label, value]) =>
        el('div', { class: 'figure' }, el('div', { class: 'value', 'data-field': label }, value), el('div', { class: 'label' }, label)))),
    el('p', { class: 'hint' }, `Tags: ${item.tags.join(', ') || 'none'} · created ${when(item.created_at)}`),
    el('div', { class: 'card' }, el('h2', {}, 'Similar items'),
      item.similar.length ? [
        barChart(item.similar.map((r) => ({ label: String(r.item_id), value: r.score, title: `${r.item_id} ${r.title ?? ''}: ${num(r.score)}` })),
          { width: 900, height: 180, format: (v) => num(v, 2) }),
        table([
          { title: '#', value: (r) => r.rank, num: true },
          { title: 'item', value: (r) => itemLink(r.item_id) },
          { title: 'title', value: (r) => r.title ?? '' },
          { title: 'category', value: (r) => r.category ?? '' },
          { title: 'score', value: (r) => num(r.score), num: true },
        ], item.similar, { id: 'similar-items' })] : el('p', {}, 'No similar items (no neighbors model yet, or none found).')));
}

// ---- Start --------------------------------------------------------------------------------------------------------

$('login').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', () => signOut());
$('experiment-form').addEventListener('submit', createExperiment);
$('add-variant').addEventListener('click', () => $('variant-rows').append(variantRow()));
// Opening what is already open reloads it (the hash would not change).
const go = (hash) => (location.hash === `#${hash}` ? route() : (location.hash = hash));
$('user-form').addEventListener('submit', (e) => { e.preventDefault(); go(`users/${e.target.elements.id.value}`); });
$('item-form').addEventListener('submit', (e) => { e.preventDefault(); go(`items/${e.target.elements.id.value}`); });
window.addEventListener('hashchange', route);
if (sessionStorage.getItem(KEY)) { showSignedIn(true); route(); } else signOut();
