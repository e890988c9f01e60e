// Tokios dashboard: plain DOM, same-origin calls to /admin/v1 with the HttpOnly session cookie.
// Every value from the API goes through textContent (never innerHTML).
'use strict';

const API = '/admin/v1';
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { 'x-tokios-dashboard': '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(API + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  if (res.status === 401 && path !== '/session') { showLogin(); throw new ApiError(401, json); }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** h('td', { class: 'x', onclick }, 'text', child) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '');
const since = (iso) => {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
};

function flash(err) {
  $('flash').textContent = err ? (err.message || String(err)) : '';
}

/** Runs an action from a button, shows its error, and re-enables the button. */
function action(fn) {
  return async (ev) => {
    ev.preventDefault();
    const btn = ev.submitter || ev.currentTarget;
    if (btn && btn.tagName === 'BUTTON') btn.disabled = true;
    flash();
    try { await fn(ev); } catch (err) { if (err.status !== 401) flash(err); } finally { if (btn && btn.tagName === 'BUTTON') btn.disabled = false; }
  };
}

function showOnce(title, secret) {
  $('shown-once-title').textContent = title;
  $('shown-once-secret').textContent = secret;
  $('shown-once').hidden = false;
  $('shown-once').scrollIntoView({ block: 'nearest' });
}

/** Sections in other scripts (aliases.js) add their refresh here: run on login and every 5th poll. */
const refreshers = [];

// ---- login ----

let pollTimer;
function showLogin() {
  clearInterval(pollTimer);
  $('app').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-secret').focus();
}

async function showApp(tenant) {
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('tenant-name').textContent = `${tenant.name} · ${tenant.id}`;
  await Promise.all([refreshDeployments(), refreshKeys(), refreshShared(), refreshUsage(), ...refreshers.map((f) => f())]);
  clearInterval(pollTimer);
  let ticks = 0;
  pollTimer = setInterval(() => {
    ticks++;
    void refreshDeployments().catch(() => undefined);
    if (ticks % 5 === 0) for (const f of [refreshShared, ...refreshers]) void f().catch(() => undefined);
    if (ticks % 15 === 0) void refreshUsage().catch(() => undefined);
  }, POLL_MS);
}

$('login-form').addEventListener('submit', action(async () => {
  $('login-error').textContent = '';
  try {
    const r = await api('POST', '/session', { secret: $('login-secret').value.trim() });
    $('login-secret').value = '';
    await showApp(r.tenant);
  } catch (err) {
    $('login-error').textContent = err.message;
  }
}));

$('logout').addEventListener('click', action(async () => {
  await api('DELETE', '/session');
  location.reload();
}));

$('shown-once-close').addEventListener('click', () => {
  $('shown-once').hidden = true;
  $('shown-once-secret').textContent = '';
});

// ---- API keys ----

function limitsText(l) {
  if (!l) return '—';
  return [l.requestsPerMinute && `${l.requestsPerMinute} req/min`, l.tokensPerMinute && `${l.tokensPerMinute} tok/min`].filter(Boolean).join(', ') || '—';
}

async function refreshKeys() {
  const { data } = await api('GET', '/keys');
  const rows = data.map((k) =>
    h('tr', { class: k.revokedAt ? 'revoked' : '', 'data-key': k.id },
      h('td', {}, k.name),
      h('td', {}, h('code', {}, `${k.prefix}…`)),
      h('td', {}, limitsText(k.limits)),
      h('td', {}, when(k.createdAt)),
      h('td', {}, k.revokedAt ? h('span', { class: 'pill' }, 'revoked') : h('span', { class: 'pill online' }, 'active')),
      h('td', {}, k.revokedAt ? '' : h('button', { class: 'danger', 'data-action': 'revoke-key', onclick: action(async () => {
        if (!confirm(`Revoke key ${k.prefix}…? Calls with it fail at once.`)) return;
        await api('POST', `/keys/${k.id}/revoke`);
        await refreshKeys();
      }) }, 'Revoke')),
    ));
  $('keys').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No API keys yet.'))]));
}

$('key-form').addEventListener('submit', action(async () => {
  const name = $('key-name').value.trim();
  const r = await api('POST', '/keys', name ? { name } : {});
  $('key-name').value = '';
  showOnce(`API key "${r.key.name}" created`, r.secret);
  await refreshKeys();
}));

// ---- deployments ----

const cards = new Map(); // deployment id -> { root, pill, connectors, tokens, invites, shares }

function statusPill(status) {
  if (!status || !status.known) return h('span', { class: 'pill unknown' }, 'unknown');
  if (status.online) return h('span', { class: 'pill online', 'data-status': 'online' }, 'online');
  const draining = (status.connectors || []).some((c) => c.draining);
  return h('span', { class: `pill ${draining ? 'draining' : ''}`, 'data-status': 'offline' }, draining ? 'draining' : 'offline');
}

function renderConnectors(el, status) {
  const cs = (status && status.connectors) || [];
  if (!cs.length) {
    el.replaceChildren(h('div', { class: 'empty' }, 'No connector online. Start one with a tunnel token of this deployment.'));
    return;
  }
  el.replaceChildren(h('table', { class: 'list' },
    h('thead', {}, h('tr', {}, ['Connector', 'Version', 'Upstream', 'Models', 'In flight', 'Connected', 'State'].map((t) => h('th', {}, t)))),
    h('tbody', {}, cs.map((c) => h('tr', { 'data-connector': c.connectorId },
      h('td', {}, h('code', {}, c.connectorId)),
      h('td', {}, c.version),
      h('td', {}, c.upstreamKind),
      h('td', {}, c.models.slice(0, 3).join(', ') + (c.models.length > 3 ? ` +${c.models.length - 3}` : '') || '—'),
      h('td', {}, `${c.inFlight} / ${c.maxConcurrency}`),
      h('td', { title: c.connectedSince }, `${since(c.connectedSince)} ago · ${c.tunnels} tunnel${c.tunnels === 1 ? '' : 's'}`),
      h('td', {}, h('span', { class: `pill ${c.draining ? 'draining' : c.healthy ? 'online' : 'unhealthy'}` }, c.draining ? 'draining' : c.healthy ? 'healthy' : 'model down')),
    ))),
  ));
}

async function refreshChildren(dep, card) {
  const [tokens, invites, shares] = await Promise.all([
    api('GET', `/deployments/${dep.id}/tokens`),
    api('GET', `/deployments/${dep.id}/invites`),
    api('GET', `/deployments/${dep.id}/shares`),
  ]);
  const revokeBtn = (label, what, fn) => h('button', { class: 'link', 'data-action': what, onclick: action(async () => {
    if (!confirm(label)) return;
    await fn();
    await refreshChildren(dep, card);
  }) }, 'Revoke');
  const table = (heads, rows, empty) => rows.length
    ? h('table', { class: 'list' }, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))), h('tbody', {}, rows))
    : h('div', { class: 'empty' }, empty);
  card.tokens.replaceChildren(table(['Token', 'Created', ''], tokens.data.map((t) => h('tr', { class: t.revokedAt ? 'revoked' : '', 'data-token': t.id },
    h('td', {}, h('code', {}, `${t.prefix}…`)), h('td', {}, when(t.createdAt)),
    h('td', {}, t.revokedAt ? 'revoked' : revokeBtn(`Revoke token ${t.prefix}…? Connectors using it disconnect now.`, 'revoke-token', () => api('POST', `/tokens/${t.id}/revoke`))),
  )), 'No tunnel tokens.'));
  card.invites.replaceChildren(table(['Invite', 'Uses', 'Expires', ''], invites.data.map((i) => h('tr', { class: i.revokedAt ? 'revoked' : '' },
    h('td', {}, h('code', {}, `${i.prefix}…`)), h('td', {}, `${i.uses} / ${i.maxUses}`), h('td', {}, when(i.expiresAt)),
    h('td', {}, i.revokedAt ? 'revoked' : revokeBtn(`Revoke invite ${i.prefix}…? Shares already made stay.`, 'revoke-invite', () => api('POST', `/invites/${i.id}/revoke`))),
  )), 'No invites.'));
  card.shares.replaceChildren(table(['Tenant', 'Since', ''], shares.data.map((s) => h('tr', {},
    h('td', {}, h('code', {}, s.tenantId)), h('td', {}, when(s.createdAt)),
    h('td', {}, revokeBtn(`Stop sharing with ${s.tenantId}?`, 'revoke-share', () => api('DELETE', `/shares/${s.id}`))),
  )), 'Not shared.'));
}

function createCard(dep) {
  const card = {
    pill: h('span', {}),
    count: h('span', { class: 'muted' }),
    connectors: h('div', { class: 'connectors' }),
    tokens: h('div', {}),
    invites: h('div', {}),
    shares: h('div', {}),
  };
  const hours = h('input', { class: 'small', type: 'number', min: 1, value: 168, title: 'expires in hours' });
  const uses = h('input', { class: 'small', type: 'number', min: 1, value: 1, title: 'max uses' });
  card.root = h('div', { class: 'dep', 'data-deployment': dep.name, 'data-id': dep.id },
    h('div', { class: 'dep-head' },
      h('div', { class: 'dep-title' }, h('span', {}, dep.name), card.pill, card.count),
      h('div', { class: 'dep-actions' },
        h('button', { 'data-action': 'new-token', onclick: action(async () => {
          const r = await api('POST', `/deployments/${dep.id}/tokens`);
          showOnce(`Tunnel token for "${dep.name}" created — put it in tokios.json as "tunnel_token"`, r.secret);
          await refreshChildren(dep, card);
        }) }, 'New tunnel token'),
        h('button', { class: 'danger', 'data-action': 'delete-deployment', onclick: action(async () => {
          if (!confirm(`Delete deployment "${dep.name}"? Its tunnel tokens are revoked and its connectors disconnect.`)) return;
          await api('DELETE', `/deployments/${dep.id}`);
          await refreshDeployments();
        }) }, 'Delete'),
      ),
    ),
    h('div', { class: 'dep-body' },
      card.connectors,
      h('div', {}, h('h3', {}, 'Tunnel tokens'), card.tokens),
      h('div', {}, h('h3', {}, 'Shared with'), card.shares),
      h('div', { class: 'connectors' },
        h('h3', {}, 'Invites'),
        h('form', { class: 'inline', onsubmit: action(async () => {
          const r = await api('POST', `/deployments/${dep.id}/invites`, { expiresInHours: Number(hours.value), maxUses: Number(uses.value) });
          showOnce(`Invite to "${dep.name}" created — send the code to the other tenant`, r.code);
          await refreshChildren(dep, card);
        }) }, h('label', { class: 'muted' }, 'expires in (h) ', hours), h('label', { class: 'muted' }, 'max uses ', uses), h('button', { type: 'submit', class: 'ghost' }, 'Create invite')),
        card.invites,
      ),
    ),
  );
  return card;
}

async function refreshDeployments() {
  const { data } = await api('GET', '/deployments');
  const seen = new Set();
  const root = $('deployments');
  for (const dep of data) {
    seen.add(dep.id);
    let card = cards.get(dep.id);
    if (!card) {
      card = createCard(dep);
      cards.set(dep.id, card);
      root.append(card.root);
      void refreshChildren(dep, card).catch(flash);
    }
    card.pill.replaceChildren(statusPill(dep.status));
    const n = dep.status ? dep.status.connectors.length : 0;
    card.count.textContent = `${n} connector${n === 1 ? '' : 's'}`;
    renderConnectors(card.connectors, dep.status);
  }
  for (const [id, card] of cards) if (!seen.has(id)) { card.root.remove(); cards.delete(id); }
  if (!data.length && !root.querySelector('.empty')) root.append(h('div', { class: 'empty' }, 'No deployments yet. A deployment is the model name clients send.'));
  if (data.length) root.querySelectorAll(':scope > .empty').forEach((e) => e.remove());
}

$('deployment-form').addEventListener('submit', action(async () => {
  await api('POST', '/deployments', { name: $('deployment-name').value.trim() });
  $('deployment-name').value = '';
  await refreshDeployments();
}));

// ---- shared with me ----

async function refreshShared() {
  const { data } = await api('GET', '/shared');
  const rows = data.map((s) => h('tr', {},
    h('td', {}, s.deployment.name),
    h('td', {}, h('code', {}, s.deployment.tenantId)),
    h('td', {}, statusPill(s.deployment.status)),
    h('td', {}, when(s.share.createdAt)),
    h('td', {}, h('button', { class: 'link', onclick: action(async () => {
      if (!confirm(`Leave the shared deployment "${s.deployment.name}"?`)) return;
      await api('DELETE', `/shares/${s.share.id}`);
      await refreshShared();
    }) }, 'Leave')),
  ));
  $('shared').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'Nothing shared with you. Redeem an invite code from another tenant.'))]));
}

$('redeem-form').addEventListener('submit', action(async () => {
  await api('POST', '/shared', { code: $('redeem-code').value.trim() });
  $('redeem-code').value = '';
  await refreshShared();
}));

// ---- usage chart (inline SVG) ----

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}

function drawUsage(report) {
  const W = 1000, H = 240, L = 48, R = 56, T = 12, B = 28;
  const n = report.buckets.length;
  const reqMax = niceMax(Math.max(...report.buckets.map((b) => b.requests)));
  const tokMax = niceMax(Math.max(...report.buckets.map((b) => b.inputTokens + b.outputTokens)));
  const x = (i) => L + ((W - L - R) * i) / n;
  const bw = Math.max(1, (W - L - R) / n - 3);
  const yReq = (v) => H - B - ((H - T - B) * v) / reqMax;
  const yTok = (v) => H - B - ((H - T - B) * v) / tokMax;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'requests and tokens per hour' });
  for (const f of [0, 0.5, 1]) {
    const y = yReq(reqMax * f);
    svg.append(s('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'axis' }));
    svg.append(s('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, String(Math.round(reqMax * f))));
    svg.append(s('text', { x: W - R + 6, y: y + 4 }, String(Math.round(tokMax * f))));
  }
  report.buckets.forEach((b, i) => {
    const title = s('title', {}, `${when(b.start)}: ${b.requests} requests, ${b.inputTokens} in / ${b.outputTokens} out tokens, ${b.errors} errors`);
    const bar = s('rect', { x: x(i) + 1.5, y: yReq(b.requests), width: bw, height: H - B - yReq(b.requests), class: 'bar' });
    bar.append(title);
    svg.append(bar);
  });
  const pts = report.buckets.map((b, i) => `${x(i) + bw / 2 + 1.5},${yTok(b.inputTokens + b.outputTokens)}`).join(' ');
  svg.append(s('polyline', { points: pts, class: 'line' }));
  for (const i of [0, Math.floor(n / 2), n - 1]) {
    const b = report.buckets[i];
    if (b) svg.append(s('text', { x: x(i) + bw / 2, y: H - 8, 'text-anchor': 'middle' }, new Date(b.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })));
  }
  const legend = h('div', { class: 'legend' },
    h('span', {}, h('i', { class: 'req' }), 'requests (left axis)'),
    h('span', {}, h('i', { class: 'tok' }), 'tokens in + out (right axis)'));
  $('usage-chart').replaceChildren(svg, legend);
  const t = report.totals;
  $('usage-totals').replaceChildren(
    h('span', {}, h('b', {}, t.requests), ' requests'),
    h('span', {}, h('b', {}, t.inputTokens), ' input tokens'),
    h('span', {}, h('b', {}, t.outputTokens), ' output tokens'),
    h('span', {}, h('b', {}, t.errors), ' errors'));
}

async function refreshUsage() {
  const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const from = new Date(to.getTime() - 24 * 3_600_000);
  drawUsage(await api('GET', `/usage?from=${from.toISOString()}&to=${to.toISOString()}&bucket=1h`));
}

// ---- start ----

api('GET', '/me').then((r) => (r.tenant ? showApp(r.tenant) : showLogin()), () => showLogin());
