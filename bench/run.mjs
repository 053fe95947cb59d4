// The benchmark (run by scripts/bench, which builds everything first). Prints, in one run on
// one machine, for the gateway and beside it for a TypeScript peer (bench/peer: the same product
// built on @cloudflare/workers-oauth-provider and the official MCP SDK): bundle size, cold
// start, CPU per request inside workerd, latency (also against a pass-through worker, the floor
// for any worker in the middle, and straight to the mock Attio), throughput at saturation (wrk),
// and workerd's memory; then the issue's targets, each MET or NOT MET.
//
// Each worker runs in a bare `workerd serve` of its own (bench/workerd.mjs: generated capnp
// config, in-memory KV service in the same process, Durable Objects; no Miniflare or wrangler
// proxy in front). CPU is read from each workerd process itself (/proc/<pid>/task/*/schedstat,
// nanoseconds on CPU), so client work never counts; workerd's own HTTP handling does, which is
// why a trivial JS worker is measured the same way as a reference. Every route, ours and the
// peer's, is measured in the same interleaved rounds (the order rotating each round), so a noisy
// neighbour on the machine shifts all alike.
//
// Env: MOCK_URL (a running mock Attio, release build), BENCH_QUICK=1 for a shorter run,
// BUDGET_JSON (the gateway's counts from src/tests/budgets/budget.rs) for the budget model,
// BENCH_BUDGET_ONLY=1 to print only the budget model.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  ATTIO_CLIENT_ID, ATTIO_CLIENT_SECRET, mcpBody, mcpHeaders, mintAttioToken, registerClient, startGateway, tokenResponse,
} from './gateway.mjs';
import { peerBundles, peerTokenResponse, peerVersions, startPassThrough, startPeer } from './peer.mjs';
import { esbuildBinary } from './peer/build.mjs';
import { startWorkerd } from './workerd.mjs';
import { gatewayEvents, peerEvents, report as budgetReport } from './budget.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const MOCK = process.env.MOCK_URL;
const QUICK = process.env.BENCH_QUICK === '1';

const out = (s = '') => console.log(s);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const us = (ns) => `${(ns / 1000).toFixed(0)} µs`;
const ms = (x) => `${x.toFixed(2)} ms`;
const mib = (k) => `${(k / 1024).toFixed(1)} MiB`;
const verdict = (ok) => (ok ? 'MET' : 'NOT MET');

// The issue's targets, collected as the sections run and printed together at the end.
const targets = [];
function target(name, value, ok) {
  targets.push({ name, value, ok });
  return verdict(ok);
}

// ---------------------------------------------------------------------------------------------
// Machine and versions

function version(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim().split('\n')[0];
}

function header() {
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.arch();
  const pkg = (name) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'))).version;
  const peer = peerVersions();
  out('# attio-gateway benchmark (beside a TypeScript peer)');
  out(`machine   ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`);
  out(`versions  ${version('rustc', ['--version'])}; node ${process.version}; workerd ${pkg('workerd')}; miniflare ${pkg('miniflare')}; wrangler ${pkg('wrangler')}; esbuild ${version(esbuildBinary(), ['--version'])}`);
  out(`peer      bench/peer/worker.js: @cloudflare/workers-oauth-provider ${peer.oauthProvider}, @modelcontextprotocol/sdk ${peer.mcpSdk}, zod ${peer.zod}`);
  out(`date      ${new Date().toISOString()}`);
  out();
}

// ---------------------------------------------------------------------------------------------
// Bundle

function bundle() {
  const gz = (b) => zlib.gzipSync(b, { level: 9 }).length;
  const wasm = fs.readFileSync(path.join(root, 'build/index_bg.wasm'));
  const js = fs.readFileSync(path.join(root, 'build/index.js'));
  const total = gz(wasm) + gz(js);
  const peer = peerBundles('http://127.0.0.1:8787');
  const plain = fs.readFileSync(peer.plain);
  const minified = fs.readFileSync(peer.minified);
  out('## Bundle (release: worker-build, wasm-opt, names stripped; the peer: esbuild as wrangler bundles it)');
  out(`wasm      ${wasm.length} B raw, ${gz(wasm)} B gzip (${kib(gz(wasm))})`);
  out(`js shim   ${js.length} B raw, ${gz(js)} B gzip`);
  out(`total     ${total} B gzip = ${kib(total)}   target ≤ 300 KiB: ${target('bundle ≤ 300 KiB gzip', kib(total), total <= 300 * 1024)}`);
  out(`peer      ${plain.length} B raw, ${gz(plain)} B gzip = ${kib(gz(plain))} (unminified, as wrangler deploys it); minified: ${minified.length} B raw, ${kib(gz(minified))} gzip`);
  out(`ratio     gateway/peer gzip ${(total / gz(plain)).toFixed(2)} (unminified peer), ${(total / gz(minified)).toFixed(2)} (minified peer)`);
  out();
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Nanoseconds the process has spent on CPU, all threads. */
function cpuNs(pid) {
  let total = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread exited
    }
  }
  return total;
}

function rssKiB(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s*(\d+)/)[1]);
}

/** workerd processes on the machine that this run did not start (another build or test). */
function otherWorkerd(ours) {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && !ours.has(Number(d))).filter((d) => {
    try {
      return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'workerd';
    } catch {
      return false;
    }
  }).length;
}

function startReference() {
  return startWorkerd({
    modules: [{ name: 'ok.js', type: 'esModule', source: 'export default { fetch() { return new Response("ok"); } }' }],
  });
}

// ---------------------------------------------------------------------------------------------
// Requests

async function timed(fn) {
  const t = performance.now();
  const r = await fn();
  await r.arrayBuffer();
  if (r.status >= 500) throw new Error(`HTTP ${r.status}`);
  return performance.now() - t;
}

/** Unexpected answers by route (status, or a body that fails the route's check). */
const bad = {};
async function checked(route) {
  const r = await route.send();
  const text = await r.text();
  if (r.status !== route.status || (route.check && !route.check(text))) {
    bad[route.key] = (bad[route.key] ?? 0) + 1;
    if (bad[route.key] <= 3) out(`  UNEXPECTED ${route.key}: ${r.status} ${text.slice(0, 300)}`);
  }
}

/** CPU per request: interleaved rounds (the order rotating each round), each route `n`
 *  sequential requests per round, read from the workerd process serving it (`route.pid`). */
async function cpuPerRequest(routes, rounds, n) {
  const samples = Object.fromEntries(routes.map((r) => [r.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < routes.length; j++) {
      const route = routes[(j + round) % routes.length];
      const before = cpuNs(route.pid);
      for (let i = 0; i < n; i++) await checked(route);
      samples[route.key].push((cpuNs(route.pid) - before) / n);
    }
  }
  return samples;
}

function wrk(url, headers = {}, luaBody = null) {
  const args = ['-t2', '-c16', `-d${QUICK ? 3 : 8}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  // The first non-2xx answer is printed, so a failure under load says what it was.
  let lua = 'local shown = false\nresponse = function(status, headers, body)\n'
    + '  if status >= 300 and not shown then shown = true; io.write("FIRST-NON-2XX " .. status .. " " .. string.sub(body, 1, 200) .. "\\n") end\nend\n';
  if (luaBody) lua = `wrk.method = "POST"\nwrk.body = [[${luaBody}]]\n${lua}`;
  const script = path.join(os.tmpdir(), `bench-${process.pid}.lua`);
  fs.writeFileSync(script, lua);
  args.push('-s', script, url);
  const r = spawnSync('wrk', args, { encoding: 'utf8' });
  fs.unlinkSync(script);
  if (r.error) return null;
  const route = url.replace(/^https?:\/\/[^/]+/, '');
  const errors = r.stdout.match(/Socket errors:.*/)?.[0];
  if (errors) out(`  (wrk ${route}: ${errors})`);
  const first = r.stdout.match(/FIRST-NON-2XX (.*)/)?.[1];
  if (first) out(`  (wrk ${route}: first non-2xx answer: ${first})`);
  const rps = Number(r.stdout.match(/Requests\/sec:\s*([\d.]+)/)?.[1]);
  const non2xx = Number(r.stdout.match(/Non-2xx or 3xx responses:\s*(\d+)/)?.[1] ?? 0);
  return { rps, non2xx };
}

// ---------------------------------------------------------------------------------------------

/** Process start → first 200, then the first and the warm metadata requests. */
async function coldStart(start) {
  const w = await start();
  const first = await timed(() => fetch(`${w.url}/.well-known/oauth-authorization-server`));
  const warm = [];
  for (let j = 0; j < 20; j++) warm.push(await timed(() => fetch(`${w.url}/.well-known/oauth-authorization-server`)));
  await w.stop();
  return { cold: w.coldMs, first, warm: median(warm) };
}

/** The budget model: the gateway's counted operations beside the peer's, measured on a peer of
 *  its own (so the other measurements' traffic does not mix in). */
async function budget(attio) {
  const peer = await startPeer(MOCK, attio, { kvStats: true });
  try {
    const events = gatewayEvents(process.env.BUDGET_JSON);
    const { gateway, peer: theirs, anonymous } = budgetReport(out, events, await peerEvents(peer));
    target('Free-plan ceiling ≥ 45,000 tool calls a day (issue 25)', `${gateway.ceiling} (binding: ${gateway.binding}; peer ${theirs.ceiling})`, gateway.ceiling >= 45_000);
    target('Paid storage ≤ $2.50 per million tool calls (issue 25)', `$${gateway.storagePerMillion.toFixed(2)} (peer $${theirs.storagePerMillion.toFixed(2)})`, gateway.storagePerMillion <= 2.5);
    const [kind, share] = Object.entries(anonymous.share).sort((a, b) => b[1] - a[1])[0];
    target('anonymous traffic from one address ≤ 10% of every daily Free storage budget (issue 27)', `${(100 * share).toFixed(1)}% of ${kind} at most`, share <= 0.1);
    const view = events.admin_view_20k_log;
    target('/admin over a month of 20,000 calls reads ≤ 5,000 rows (issue 29)', `${view.rows_read} rows, ${view.do_requests} object requests`, view.rows_read <= 5_000);
  } finally {
    await peer.stop();
  }
}

async function main() {
  header();
  const attio = await mintAttioToken(MOCK);
  if (process.env.BUDGET_JSON) await budget(attio);
  if (process.env.BENCH_BUDGET_ONLY === '1') {
    for (const t of targets) out(`${verdict(t.ok).padEnd(8)} ${t.name}: ${t.value}`);
    return;
  }
  bundle();

  // Cold start: a fresh workerd, process start to the first 200, gateway and peer alternating.
  const colds = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    colds.push({ gw: await coldStart(() => startGateway(MOCK, attio)), peer: await coldStart(() => startPeer(MOCK, attio)) });
  }

  const started = [];
  const g = await startGateway(MOCK, attio, { kvStats: true });
  started.push(g);
  const p = await startPeer(MOCK, attio, { kvStats: true });
  started.push(p);
  const floor = await startPassThrough(MOCK);
  started.push(floor);
  const ref = await startReference();
  started.push(ref);
  try {
    await measure({ attio, colds, g, p, floor, ref });
  } finally {
    for (const w of started) await w.stop().catch(() => {});
  }
}

async function measure({ attio, colds, g, p, floor, ref }) {
  // Tokens through each side's own OAuth flow.
  const clientId = await registerClient(g.url);
  const mcpToken = (await tokenResponse(g.url, clientId, '/mcp')).access_token;
  const restToken = (await tokenResponse(g.url, clientId, '/v2')).access_token;
  const peerToken = (await peerTokenResponse(p.url)).access_token;
  if (!mcpToken || !restToken) throw new Error('gateway: no access token');

  // A tool call's answer must carry the mock's /v2/self answer (its workspace).
  const self = await (await fetch(`${MOCK}/v2/self`, { headers: { authorization: `Bearer ${attio}` } })).json();
  const carriesSelf = (text) => text.includes('"result"') && !text.includes('"isError":true') && text.includes(self.workspace_id);
  const whoami = mcpBody(1, 'tools/call', { name: 'whoami', arguments: {} });
  const post = (url, headers, body) => () => fetch(url, { method: 'POST', headers, body });
  const unauth = { 'content-type': 'application/json' };
  const sides = [
    { side: 'gateway', w: g, mcp: mcpToken, rest: restToken },
    { side: 'peer', w: p, mcp: peerToken, rest: peerToken },
  ];
  const routes = [];
  for (const s of sides) {
    routes.push(
      { side: s.side, route: 'metadata', status: 200, send: () => fetch(`${s.w.url}/.well-known/oauth-authorization-server`) },
      { side: s.side, route: '401', status: 401, send: post(`${s.w.url}/mcp`, unauth, mcpBody(1, 'ping', {})) },
      { side: s.side, route: 'whoami', status: 200, check: carriesSelf, send: post(`${s.w.url}/mcp`, mcpHeaders(s.mcp), whoami) },
      { side: s.side, route: 'proxy', status: 200, send: () => fetch(`${s.w.url}/v2/objects`, { headers: { authorization: `Bearer ${s.rest}` } }) },
    );
  }
  // The peer plus the one piece of work the gateway does on every tool call and the peer does
  // not: an audit entry put to KV after the response (ctx.waitUntil).
  routes.push({ side: 'peer', route: 'whoami+audit', status: 200, check: carriesSelf, send: post(`${p.url}/mcp/audit`, mcpHeaders(peerToken), whoami) });
  routes.push({ side: 'floor', route: 'proxy', status: 200, send: () => fetch(`${floor.url}/v2/objects`, { headers: { authorization: `Bearer ${attio}` } }) });
  routes.push({ side: 'ref', route: 'ok', status: 200, send: () => fetch(ref.url) });
  const pids = { gateway: g.pid, peer: p.pid, floor: floor.pid, ref: ref.pid };
  for (const r of routes) {
    r.key = `${r.side}/${r.route}`;
    r.pid = pids[r.side];
  }
  const find = (key) => routes.find((r) => r.key === key);

  // Warm up every path (JIT, caches) before measuring.
  for (const r of routes) for (let i = 0; i < (QUICK ? 50 : 200); i++) await checked(r);

  // Diagnostics outside the measured rounds: KV operations and calls to the mock per request.
  const diag = {};
  for (const r of routes.filter((x) => x.side === 'gateway' || x.side === 'peer')) {
    const w = r.side === 'gateway' ? g : p;
    await fetch(`${MOCK}/__mock/requests`, { method: 'DELETE' });
    const a = await w.kvStats();
    for (let i = 0; i < 20; i++) await checked(r);
    await new Promise((res) => setTimeout(res, 50)); // let waitUntil work land
    const b = await w.kvStats();
    const mockLog = await (await fetch(`${MOCK}/__mock/requests`)).json();
    const kv = Object.entries(b.ops).map(([k, n]) => [k, (n - a.ops[k]) / 20]).filter(([, n]) => n > 0);
    diag[r.key] = `${kv.length ? kv.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}; mock ${mockLog.length / 20}`;
  }
  await fetch(`${MOCK}/__mock/requests`, { method: 'DELETE' });

  const rounds = QUICK ? 5 : 9;
  const perRound = QUICK ? 100 : 300;
  const ours = new Set(Object.values(pids));
  const noise = { loadBefore: os.loadavg()[0], othersBefore: otherWorkerd(ours) };
  const cpu = await cpuPerRequest(routes, rounds, perRound);
  Object.assign(noise, { loadAfter: os.loadavg()[0], othersAfter: otherWorkerd(ours) });

  out('## Cold start (fresh `workerd serve`; process start → first 200 on /health)');
  out('            start→200   first metadata   warm median');
  for (const c of colds) {
    out(`gateway   ${ms(c.gw.cold).padStart(11)}   ${ms(c.gw.first).padStart(14)}   ${ms(c.gw.warm).padStart(11)}`);
    out(`peer      ${ms(c.peer.cold).padStart(11)}   ${ms(c.peer.first).padStart(14)}   ${ms(c.peer.warm).padStart(11)}`);
  }
  out();

  // CPU -----------------------------------------------------------------------------------------
  const st = (key) => ({ min: Math.min(...cpu[key]), med: median(cpu[key]) });
  const cell = (s) => `${us(s.min)} / ${us(s.med)}`.padStart(17);
  out(`## CPU per request inside workerd, concurrency 1 (${rounds} interleaved rounds × ${perRound} requests, order rotating)`);
  out('figures are min / median over the rounds; ratio = gateway ÷ peer');
  out(`${'route'.padEnd(53)} ${'gateway'.padStart(17)}   ${'peer'.padStart(17)}   ratio min, med   target (median ratio)`);
  const cpuRows = [
    { route: 'metadata', name: 'metadata GET /.well-known/oauth-authorization-server', max: 1.0, abs: 250 },
    { route: '401', name: 'unauthenticated POST /mcp (401)', max: 1.0, abs: 250 },
    { route: 'whoami', name: 'MCP tools/call whoami (read)', max: 0.8 },
    { route: 'proxy', name: 'proxied REST read GET /v2/objects', max: 0.8 },
  ];
  for (const row of cpuRows) {
    const gs = st(`gateway/${row.route}`);
    const ps = st(`peer/${row.route}`);
    const ratio = gs.med / ps.med;
    let t = `≤ ${row.max.toFixed(1)}× peer: ${target(`${row.name}: CPU ≤ ${row.max.toFixed(1)}× peer`, `${ratio.toFixed(2)}×`, ratio <= row.max)}`;
    if (row.abs) t += `; ≤ ${row.abs} µs: ${verdict(gs.med <= row.abs * 1000)}`;
    out(`${row.name.padEnd(53)} ${cell(gs)}   ${cell(ps)}   ${`${(gs.min / ps.min).toFixed(2)}, ${ratio.toFixed(2)}`.padStart(14)}   ${t}`);
  }
  {
    const gs = st('gateway/whoami');
    const ps = st('peer/whoami+audit');
    out(`${'tools/call whoami vs peer + its audit KV put'.padEnd(53)} ${cell(gs)}   ${cell(ps)}   ${`${(gs.min / ps.min).toFixed(2)}, ${(gs.med / ps.med).toFixed(2)}`.padStart(14)}   (prices the audit write)`);
  }
  out(`${'pass-through worker GET /v2/objects (no auth; floor)'.padEnd(53)} ${''.padStart(17)}   ${cell(st('floor/proxy'))}`);
  out(`${'reference: trivial JS worker ("ok"), same harness'.padEnd(53)} ${''.padStart(17)}   ${cell(st('ref/ok'))}`);
  out('per request, outside the rounds (KV operations in the in-process KV service; requests to the mock):');
  for (const [k, v] of Object.entries(diag)) out(`  ${k.padEnd(20)} ${v}`);
  out();

  // Latency -------------------------------------------------------------------------------------
  const n = QUICK ? 100 : 400;
  const rest = (url, token) => () => fetch(`${url}/v2/objects`, { headers: { authorization: `Bearer ${token}` } });
  const query = (url, token) => post(`${url}/v2/objects/people/records/query`, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{"limit":2}');
  const selfGet = (url) => () => fetch(`${url}/v2/self`, { headers: { authorization: `Bearer ${attio}` } });
  const pairs = [
    { name: 'proxied REST read (GET /v2/objects)', target: true, gw: rest(g.url, restToken), peer: rest(p.url, peerToken), floor: rest(floor.url, attio), direct: rest(MOCK, attio) },
    { name: 'proxied write (POST /v2/objects/people/records/query)', gw: query(g.url, restToken), peer: query(p.url, peerToken), floor: query(floor.url, attio), direct: query(MOCK, attio) },
    { name: 'MCP tools/call whoami (floor, direct: GET /v2/self)', target: true, gw: post(`${g.url}/mcp`, mcpHeaders(mcpToken), whoami), peer: post(`${p.url}/mcp`, mcpHeaders(peerToken), whoami), floor: selfGet(floor.url), direct: selfGet(MOCK) },
  ];
  // Refresh: both sides rotate their own tokens (no call to Attio); the floor and direct figures
  // are one form POST to the mock's OAuth endpoint (introspection), the nearest equivalent.
  // A client and grant of their own on each side: refreshing rotates the grant's tokens, which
  // must not touch the tokens the load runs below still use.
  const refresher = async (url, clientId, first) => {
    let token = first;
    return async () => {
      const r = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token }) });
      const j = await r.clone().json();
      token = j.refresh_token ?? token;
      return r;
    };
  };
  const gwRefreshClient = await registerClient(g.url);
  const peerGrant = await peerTokenResponse(p.url);
  const introspect = (url) => post(`${url}/oauth/introspect`, { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ token: attio, client_id: ATTIO_CLIENT_ID, client_secret: ATTIO_CLIENT_SECRET }).toString());
  pairs.push({
    name: 'token refresh (POST /token; floor, direct: introspect)',
    gw: await refresher(g.url, gwRefreshClient, (await tokenResponse(g.url, gwRefreshClient, '/mcp')).refresh_token),
    peer: await refresher(p.url, peerGrant.clientId, peerGrant.refresh_token),
    floor: introspect(floor.url),
    direct: introspect(MOCK),
  });
  out(`## Latency, gateway vs peer vs pass-through worker (floor) vs straight to the mock (loopback, ${n} sequential requests each, interleaved)`);
  out('medians (gateway and peer: median/p95), ms; ratios of medians');
  out(`${'request'.padEnd(56)} ${'gateway'.padStart(11)}  ${'peer'.padStart(11)}  floor  direct   gw/peer  gw/floor  gw/direct  target ≤ 0.9× peer`);
  for (const pr of pairs) {
    const t = { gw: [], peer: [], floor: [], direct: [] };
    for (let i = 0; i < n; i++) for (const k of Object.keys(t)) t[k].push(await timed(pr[k]));
    const m = Object.fromEntries(Object.entries(t).map(([k, xs]) => [k, median(xs)]));
    const ratio = m.gw / m.peer;
    const v = pr.target ? target(`latency ≤ 0.9× peer: ${pr.name}`, `${ratio.toFixed(2)}×`, ratio <= 0.9) : `(${verdict(ratio <= 0.9)})`;
    out(`${pr.name.padEnd(56)} ${`${m.gw.toFixed(2)}/${pct(t.gw, 0.95).toFixed(2)}`.padStart(11)}  ${`${m.peer.toFixed(2)}/${pct(t.peer, 0.95).toFixed(2)}`.padStart(11)}  ${m.floor.toFixed(2)}  ${m.direct.toFixed(2).padStart(6)}   ${ratio.toFixed(2).padStart(7)}  ${(m.gw / m.floor).toFixed(2).padStart(8)}  ${(m.gw / m.direct).toFixed(2).padStart(9)}  ${v}`);
  }
  out();

  // Throughput ----------------------------------------------------------------------------------
  out('## Throughput at saturation (wrk -t2 -c16, loopback; client and servers share the machine)');
  const viaGw = wrk(`${g.url}/v2/objects`, { authorization: `Bearer ${restToken}` });
  if (!viaGw) {
    out('wrk not found: install it (Debian package wrk); scripts/bench does.');
  } else {
    const viaPeer = wrk(`${p.url}/v2/objects`, { authorization: `Bearer ${peerToken}` });
    const viaFloor = wrk(`${floor.url}/v2/objects`, { authorization: `Bearer ${attio}` });
    const direct = wrk(`${MOCK}/v2/objects`, { authorization: `Bearer ${attio}` });
    const meta = wrk(`${g.url}/.well-known/oauth-authorization-server`);
    const peerMeta = wrk(`${p.url}/.well-known/oauth-authorization-server`);
    const tool = wrk(`${g.url}/mcp`, mcpHeaders(mcpToken), whoami);
    const peerTool = wrk(`${p.url}/mcp`, mcpHeaders(peerToken), whoami);
    const rps = (x) => `${x.rps.toFixed(0).padStart(6)} req/s${x.non2xx ? ` (non-2xx: ${x.non2xx})` : ''}`;
    out(`${'request'.padEnd(36)} ${'gateway'.padStart(12)}   ${'peer'.padStart(12)}   ratio gw/peer   target ≥ peer`);
    const row = (name, a, b, t) => out(`${name.padEnd(36)} ${rps(a).padStart(12)}   ${rps(b).padStart(12)}   ${(a.rps / b.rps).toFixed(2).padStart(13)}   ${t ? target(`throughput ≥ peer: ${name}`, `${(a.rps / b.rps).toFixed(2)}×`, a.rps >= b.rps && a.non2xx === 0) : ''}`);
    row('proxied REST read GET /v2/objects', viaGw, viaPeer, true);
    row('MCP tools/call whoami', tool, peerTool, true);
    row('metadata route', meta, peerMeta, false);
    out(`same read through the pass-through worker ${rps(viaFloor)}; straight to the mock ${rps(direct)}; ratio gateway/direct ${(viaGw.rps / direct.rps).toFixed(2)}`);
  }
  out();

  // Memory --------------------------------------------------------------------------------------
  // Each worker's workerd holds the runtime, the worker's isolate and the KV service with what
  // the run stored in it. A workerd with only the KV service (idle, empty) is the runtime's own
  // share, so what is above it and the KV data is the worker itself (code, heap, Durable Objects).
  const kvAlone = await startWorkerd({ kvOnly: true });
  await (await fetch(`${kvAlone.url}/`)).arrayBuffer();
  const base = rssKiB(kvAlone.pid);
  await kvAlone.stop();
  const mem = {};
  for (const [side, w] of [['gateway', g], ['peer', p]]) {
    const s = await w.kvStats();
    const rss = rssKiB(w.pid);
    mem[side] = { rss, kv: s, worker: rss - base - s.bytes / 1024 };
  }
  out('## Memory (workerd RSS after the run)');
  out(`gateway   ${mib(mem.gateway.rss)}   peer ${mib(mem.peer.rss)}   ratio ${(mem.gateway.rss / mem.peer.rss).toFixed(2)}`);
  out(`of which  a workerd running only the KV service (idle, empty): ${mib(base)}`);
  out(`          KV data held: gateway ${mem.gateway.kv.keys} keys, ${kib(mem.gateway.kv.bytes)}; peer ${mem.peer.kv.keys} keys, ${kib(mem.peer.kv.bytes)}`);
  out(`          the rest, the worker (isolate: code, heap, Durable Objects): gateway ≈ ${mib(mem.gateway.worker)}, peer ≈ ${mib(mem.peer.worker)}, ratio ${(mem.gateway.worker / mem.peer.worker).toFixed(2)}`);
  out(`others    pass-through worker ${mib(rssKiB(floor.pid))}; trivial JS worker ${mib(rssKiB(ref.pid))}`);
  out();

  // Checks and targets --------------------------------------------------------------------------
  out('## Checks');
  out(`answers   ${Object.keys(bad).length ? `UNEXPECTED ${JSON.stringify(bad)}` : 'every measured answer as expected (200; 401 unauthenticated), every tools/call answer carried the mock\'s /v2/self workspace'}`);
  out(`noise     load average (1 min) ${noise.loadBefore.toFixed(2)} before the CPU rounds, ${noise.loadAfter.toFixed(2)} after; other workerd processes on the machine: ${noise.othersBefore} before, ${noise.othersAfter} after`);
  for (const [side, w] of [['gateway', g], ['peer', p], ['pass-through', floor]]) {
    const e = w.stderr().split('\n').filter((l) => l.trim() && !/CIMD \(Client ID Metadata Document\) is disabled/.test(l));
    if (e.length) out(`stderr    ${side}: ${e.slice(0, 3).join(' | ').slice(0, 300)}`);
  }
  out();
  out('## Targets (the issue: against the peer, medians)');
  for (const t of targets) out(`${verdict(t.ok).padEnd(8)} ${t.name}: ${t.value}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
