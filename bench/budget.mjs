// The budget model: what a day of a busy team costs on Cloudflare, for the gateway and beside
// it the TypeScript peer. Inputs:
// - the gateway's storage operations per route and lifecycle event, counted by the host test
//   `src/tests/budgets/budget.rs` (the router with the fake platform: KV get/put/delete/list at KV's
//   page size, Durable Object requests, SQLite rows read and written by the `Transitions`
//   class, alarms set, outbound fetches), written to a JSON file by scripts/bench;
// - the peer's, measured here in workerd: its KV service's operation counts around each event
//   (it uses KV alone: no Durable Object, no SQLite).
// Output: for the day's mix below, the Free-plan ceiling (tool calls a day before the first
// daily limit runs out, and which limit that is) and the Paid plan's storage cost per million
// tool calls at list prices.

import fs from 'node:fs';
import { mcpBody, mcpHeaders, registerClient, tokenResponse } from './gateway.mjs';

// Cloudflare's published limits and prices, checked 2026-12-04 (developers.cloudflare.com:
// kv/platform/limits and pricing, durable-objects/platform/pricing and limits,
// workers/platform/limits; copied in shared/reference/field-2026-12.md). Free: per day, reset
// at 00:00 UTC. Paid: US$ per million beyond the monthly inclusions (which the per-call cost
// leaves out: it is the price of one more million calls).
export const PLAN = {
  checked: '2026-12-04',
  free: {
    requests: 100_000, kv_get: 100_000, kv_put: 1_000, kv_delete: 1_000, kv_list: 1_000,
    do_requests: 100_000, rows_read: 5_000_000, rows_written: 100_000, do_gb_s: 13_000,
  },
  paid: {
    requests: 0.30, kv_get: 0.50, kv_put: 5.00, kv_delete: 5.00, kv_list: 5.00,
    do_requests: 0.15, rows_read: 0.001, rows_written: 1.00, do_gb_s: 12.50,
  },
  subrequestsPerInvocation: { free: 50, paid: 1_000 },
};

// Durable Object duration: an object is billed for wall time while it handles a request, at
// 128 MB. No object of the gateway waits on Attio (the worker does, after one object request),
// so Attio's latency (300 ms assumed) adds nothing here; each object request is taken as 10 ms
// of wall time, a generous figure for one storage read or write. Alarms are object requests
// too: every alarm set is counted as one that will fire.
export const ASSUMED = { attioLatencyMs: 300, doMsPerRequest: 10, doMemoryGb: 0.128 };

// The day's mix (the issue's): 10 people with 2 apps each, 1-hour access tokens (about 200
// refreshes), 5 new connections (each an app authorized: consent page, decision, Attio's
// callback, code grant), 5 registrations, 20 page views (10 /account, 10 /admin over a month
// of log), a day of the cron (it runs every minute: one pass over the ten people a batch a run,
// then the policy copies, and the other minutes each read one KV key), and an `initialize` and
// a `tools/list` per 10 tool calls. Retention is
// counted as in a steady month: audit records are kept in chunks of 32 (src/transitions/log.rs),
// and each chunk is deleted 30 days later, one row written (Cloudflare bills a deleted row as a
// row written; the peer keeps no log): a 32nd of a row per call.
export const MIX = {
  people: 10,
  fixed: {
    refresh_grant: 200, authorize: 5, consent: 5, connect: 5, code_grant: 5, register: 5,
    account_view: 10, admin_view_20k_log: 10, cron_day_10_people: 1, cron_idle_run: 1440,
  },
  // Each chunk of 32 audit records is deleted 30 days later (in a steady month, a 32nd a call).
  perToolCall: { tools_call: 1, initialize: 0.1, tools_list: 0.1, audit_retention_per_chunk: 1 / 32 },
};

const KINDS = ['requests', 'kv_get', 'kv_put', 'kv_delete', 'kv_list', 'do_requests', 'rows_read', 'rows_written', 'do_gb_s'];

/** An event's operations as the plan counts them (alarms are object requests; duration). */
function billed(ops) {
  const doRequests = (ops.do_requests ?? 0) + (ops.alarms_set ?? 0);
  return {
    requests: ops.requests ?? 0, kv_get: ops.kv_get ?? 0, kv_put: ops.kv_put ?? 0, kv_delete: ops.kv_delete ?? 0,
    kv_list: ops.kv_list ?? 0, do_requests: doRequests, rows_read: ops.rows_read ?? 0, rows_written: ops.rows_written ?? 0,
    do_gb_s: doRequests * (ASSUMED.doMsPerRequest / 1000) * ASSUMED.doMemoryGb,
  };
}

function sum(events, weights) {
  const total = Object.fromEntries(KINDS.map((k) => [k, 0]));
  for (const [name, w] of Object.entries(weights)) {
    const ops = billed(events[name] ?? {});
    for (const k of KINDS) total[k] += w * ops[k];
  }
  return total;
}

/** The Free-plan ceiling and the Paid cost for one side's event counts. */
export function model(events) {
  const fixed = sum(events, MIX.fixed);
  const perCall = sum(events, MIX.perToolCall);
  let ceiling = Infinity;
  let binding = 'none';
  for (const k of KINDS) {
    if (perCall[k] <= 0) continue;
    const calls = Math.max(0, Math.floor((PLAN.free[k] - fixed[k]) / perCall[k]));
    if (calls < ceiling) {
      ceiling = calls;
      binding = k;
    }
  }
  const storage = KINDS.filter((k) => k !== 'requests').reduce((s, k) => s + perCall[k] * PLAN.paid[k], 0);
  const byKind = Object.fromEntries(KINDS.map((k) => [k, perCall[k] * PLAN.paid[k]]));
  return { fixed, perCall, ceiling, binding, storagePerMillion: storage, requestsPerMillion: perCall.requests * PLAN.paid.requests, byKind };
}

/** The gateway's counts, as `src/tests/budgets/budget.rs` wrote them. */
export function gatewayEvents(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.ops]));
}

/** The peer's KV operations per event, measured around each request in its workerd. */
export async function peerEvents(p) {
  const events = {};
  const around = async (name, fn) => {
    const a = await p.kvStats();
    const r = await fn();
    await new Promise((res) => setTimeout(res, 50)); // waitUntil work lands
    const b = await p.kvStats();
    events[name] = {
      requests: 1,
      kv_get: b.ops.get - a.ops.get, kv_put: b.ops.put - a.ops.put, kv_delete: b.ops.delete - a.ops.delete, kv_list: b.ops.list - a.ops.list,
    };
    return r;
  };
  const clientId = await around('register', () => registerClient(p.url));
  // Its /authorize approves at once and redirects with the code; the code grant follows.
  const redirect = 'http://127.0.0.1:9/cb';
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256', scope: 'attio:read attio:write', resource: p.url,
  });
  const loc = await around('authorize', async () => (await fetch(`${p.url}/authorize?${q}`, { redirect: 'manual' })).headers.get('location'));
  const code = new URL(loc).searchParams.get('code');
  const form = (body) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  const t = await around('code_grant', async () => (await fetch(`${p.url}/token`, form({
    grant_type: 'authorization_code', client_id: clientId, code, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', redirect_uri: redirect,
  }))).json());
  const r = await around('refresh_grant', async () => (await fetch(`${p.url}/token`, form({ grant_type: 'refresh_token', client_id: clientId, refresh_token: t.refresh_token }))).json());
  const at = r.access_token ?? t.access_token;
  const mcp = (body) => async () => (await fetch(`${p.url}/mcp`, { method: 'POST', headers: mcpHeaders(at), body })).text();
  await around('initialize', mcp(mcpBody(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } })));
  await around('tools_list', mcp(mcpBody(1, 'tools/list', {})));
  await around('tools_call', mcp(mcpBody(1, 'tools/call', { name: 'whoami', arguments: {} })));
  await around('proxy_read', async () => (await fetch(`${p.url}/v2/objects`, { headers: { authorization: `Bearer ${at}` } })).text());
  return events;
}

// Anonymous traffic (issue 27): the shipped per-address limits (wrangler.toml, read below), a
// minute at a time for a whole day, from one address at one Cloudflare location (the limits
// count per location). Each `anon_<limit>_<what>` event of src/tests/budgets/budget.rs is something a
// stranger can do under that limit, counted once the earlier token formats' lifetimes are over
// (the steady state; in the first 30 days after the upgrade an earlier-format refresh token
// still costs up to two object requests under LIMIT_LOOKUPS); `anon_unlimited_…` ones pass no
// limit; `anon_perminute_…` is what an isolate reads once and keeps (counted once a minute).
// Several addresses multiply it: only WAF rules bound that, and the Workers request budget.
const LIMIT_BINDINGS = { flows: 'LIMIT_FLOWS', lookups: 'LIMIT_LOOKUPS', registration: 'LIMIT_REGISTRATION' };
const STORAGE_KINDS = ['kv_get', 'kv_put', 'kv_delete', 'kv_list', 'do_requests', 'rows_read', 'rows_written'];

/** The shipped per-minute limits, from wrangler.toml. */
export function shippedLimits(wranglerToml) {
  const limits = {};
  for (const [name, binding] of Object.entries(LIMIT_BINDINGS)) {
    const block = wranglerToml.split('[[ratelimits]]').find((b) => b.includes(`name = "${binding}"`)) ?? '';
    const m = block.match(/limit\s*=\s*(\d+),\s*period\s*=\s*(\d+)/);
    limits[name] = m ? Number(m[1]) * (60 / Number(m[2])) : Infinity;
  }
  return limits;
}

/** What one address can make the gateway spend in a day, by kind, and the share of Free. */
export function anonymous(events, limits) {
  const day = Object.fromEntries([...STORAGE_KINDS, 'fetches'].map((k) => [k, 0]));
  const worst = {};
  for (const [name, ops] of Object.entries(events)) {
    const m = name.match(/^anon_([a-z]+)_/);
    if (!m) continue;
    const perMinute = { unlimited: Infinity, perminute: 1 }[m[1]] ?? limits[m[1]];
    const b = billed(ops);
    for (const k of Object.keys(day)) {
      const v = k === 'fetches' ? ops.fetches ?? 0 : b[k];
      if (!v) continue;
      if (!Number.isFinite(perMinute)) throw new Error(`${name} passes no limit yet costs ${k}`);
      // Under one limit the dearest event is what an attacker repeats.
      const key = `${m[1]}|${k}`;
      worst[key] = Math.max(worst[key] ?? 0, v * perMinute * 1440);
    }
  }
  for (const [key, v] of Object.entries(worst)) day[key.split('|')[1]] += v;
  const share = Object.fromEntries(STORAGE_KINDS.map((k) => [k, day[k] / PLAN.free[k]]));
  return { day, share };
}

const fmt = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(n < 1 ? 3 : 1));
const money = (x) => `$${x.toFixed(x < 0.1 ? 4 : 2)}`;

/** The section the benchmark prints. */
export function report(out, gw, peer) {
  out(`## Budget model (Cloudflare limits and prices checked ${PLAN.checked}; see bench/budget.mjs)`);
  out('storage operations per event (gateway: counted by src/tests/budgets/budget.rs; peer: measured in workerd; "·" = none, blank = the peer has no such event)');
  const cols = ['requests', 'kv_get', 'kv_put', 'kv_delete', 'kv_list', 'do_requests', 'alarms_set', 'rows_read', 'rows_written', 'fetches'];
  out(`${'event'.padEnd(28)} ${cols.map((c) => c.replace('_', ' ').padStart(13)).join('')}   peer: kv get/put/delete/list`);
  for (const name of Object.keys(gw).sort()) {
    const e = gw[name];
    const cells = cols.map((c) => (e[c] ? fmt(e[c]) : '·').padStart(13)).join('');
    const pe = peer[name];
    const pcell = pe ? `${pe.kv_get}/${pe.kv_put}/${pe.kv_delete}/${pe.kv_list}` : '';
    out(`${name.padEnd(28)} ${cells}   ${pcell}`);
  }
  out(`the day's mix: ${Object.entries(MIX.fixed).map(([k, v]) => `${v} ${k}`).join(', ')}; per tool call: ${Object.entries(MIX.perToolCall).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  out(`assumed: Attio answers in ${ASSUMED.attioLatencyMs} ms (no object waits on it); ${ASSUMED.doMsPerRequest} ms of object wall time per object request at ${ASSUMED.doMemoryGb * 1000} MB; every alarm set fires once`);
  const g = model(gw);
  // The peer has no Attio connect flow, pages, cron or policy: those cost it nothing here.
  const p = model(peer);
  const line = (label, m) => out(`${label.padEnd(10)} Free ceiling ${String(m.ceiling).padStart(7)} tool calls a day (binding: ${m.binding}); Paid storage ${money(m.storagePerMillion)} per million tool calls (+ ${money(m.requestsPerMillion)} Workers requests)`);
  line('gateway', g);
  line('peer', p);
  const top = Object.entries(g.byKind).filter(([k]) => k !== 'requests').sort((a, b) => b[1] - a[1]).slice(0, 3);
  out(`gateway per tool call: ${KINDS.map((k) => `${k} ${fmt(g.perCall[k])}`).join(', ')}`);
  out(`gateway cost per million by kind: ${top.map(([k, v]) => `${k} ${money(v)}`).join(', ')}`);
  out(`gateway fixed daily use by the mix: ${KINDS.filter((k) => g.fixed[k]).map((k) => `${k} ${fmt(g.fixed[k])} of ${PLAN.free[k]}`).join(', ')}`);
  const limits = shippedLimits(fs.readFileSync(new URL('../wrangler.toml', import.meta.url), 'utf8'));
  const anon = anonymous(gw, limits);
  out(`anonymous, one address for a day at the shipped limits (${Object.entries(limits).map(([k, v]) => `${k} ${v}/min`).join(', ')}; each limit's dearest event, repeated):`);
  out(`  ${STORAGE_KINDS.map((k) => `${k} ${fmt(anon.day[k])} (${(100 * anon.share[k]).toFixed(1)}% of Free)`).join(', ')}; fetches ${fmt(anon.day.fetches)}`);
  out('  (every address adds as much; only WAF rules bound many addresses, and the Workers request budget itself)');
  out();
  return { gateway: g, peer: p, anonymous: anon };
}
