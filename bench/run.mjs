// The benchmark (run by scripts/bench, which builds everything first). Prints, in one run on
// one machine: bundle size, cold start, CPU per request inside workerd, latency through the
// gateway vs straight to the mock Attio, throughput at saturation (wrk), and workerd's memory.
//
// The worker runs in a bare `workerd serve` (bench/workerd.mjs: generated capnp config, in-memory
// KV service and Durable Objects; no Miniflare or wrangler proxy in front). CPU is read from the
// workerd process itself (/proc/<pid>/task/*/schedstat, nanoseconds on CPU), so client work never
// counts; workerd's own HTTP handling does, which is why a trivial JS worker is measured the same
// way as a reference.
//
// Env: MOCK_URL (a running mock Attio, release build), BENCH_QUICK=1 for a shorter run.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  ATTIO_CLIENT_ID, ATTIO_CLIENT_SECRET, mcpBody, mcpHeaders, mintAttioToken, registerClient, startGateway, tokenResponse,
} from './gateway.mjs';
import { startWorkerd } from './workerd.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const MOCK = process.env.MOCK_URL;
const QUICK = process.env.BENCH_QUICK === '1';

const out = (s = '') => console.log(s);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const us = (ns) => `${(ns / 1000).toFixed(0)} µs`;
const ms = (x) => `${x.toFixed(2)} ms`;

// ---------------------------------------------------------------------------------------------
// Machine and versions

function version(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim().split('\n')[0];
}

function header() {
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.arch();
  const pkg = (name) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'))).version;
  out('# attio-gateway benchmark');
  out(`machine   ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`);
  out(`versions  ${version('rustc', ['--version'])}; node ${process.version}; workerd ${pkg('workerd')}; miniflare ${pkg('miniflare')}; wrangler ${pkg('wrangler')}`);
  out(`date      ${new Date().toISOString()}`);
  out();
}

// ---------------------------------------------------------------------------------------------
// Bundle

function bundle() {
  const wasm = fs.readFileSync(path.join(root, 'build/index_bg.wasm'));
  const js = fs.readFileSync(path.join(root, 'build/index.js'));
  const gz = (b) => zlib.gzipSync(b, { level: 9 }).length;
  const total = gz(wasm) + gz(js);
  out('## Bundle (release: worker-build, wasm-opt, names stripped)');
  out(`wasm      ${wasm.length} B raw, ${gz(wasm)} B gzip (${kib(gz(wasm))})`);
  out(`js shim   ${js.length} B raw, ${gz(js)} B gzip`);
  out(`total     ${total} B gzip = ${kib(total)}   target ≤ 300 KiB: ${total <= 300 * 1024 ? 'MET' : 'NOT MET'}`);
  out();
}

// ---------------------------------------------------------------------------------------------
// The gateway and the reference worker in bare workerd

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

/** CPU per request: interleaved rounds, each route `n` sequential requests per round, read from
 *  the workerd process serving it (`route.pid`). */
async function cpuPerRequest(routes, rounds, n) {
  const samples = Object.fromEntries(routes.map((r) => [r.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const route of routes) {
      const before = cpuNs(route.pid);
      for (let i = 0; i < n; i++) {
        const r = await route.send();
        await r.arrayBuffer();
      }
      samples[route.name].push((cpuNs(route.pid) - before) / n);
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

async function main() {
  header();
  bundle();

  const attio = await mintAttioToken(MOCK);

  // Cold start: a fresh workerd, process start to the first 200, three times.
  const colds = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    const g = await startGateway(MOCK, attio);
    const firstMeta = await timed(() => fetch(`${g.url}/.well-known/oauth-authorization-server`));
    const warm = [];
    for (let j = 0; j < 20; j++) warm.push(await timed(() => fetch(`${g.url}/.well-known/oauth-authorization-server`)));
    colds.push({ cold: g.coldMs, first: firstMeta, warm: median(warm) });
    await g.stop();
  }

  const g = await startGateway(MOCK, attio);
  const clientId = await registerClient(g.url);
  const t = { clientId, mcp: await tokenResponse(g.url, clientId, '/mcp'), rest: await tokenResponse(g.url, clientId, '/v2') };
  const mcpToken = t.mcp.access_token;
  const restToken = t.rest.access_token;
  const routes = [
    { name: 'metadata GET /.well-known/oauth-authorization-server', send: () => fetch(`${g.url}/.well-known/oauth-authorization-server`) },
    { name: 'unauthenticated POST /mcp (401)', send: () => fetch(`${g.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: mcpBody(1, 'ping', {}) }) },
    { name: 'MCP tools/call whoami (read)', send: () => fetch(`${g.url}/mcp`, { method: 'POST', headers: mcpHeaders(mcpToken), body: mcpBody(1, 'tools/call', { name: 'whoami', arguments: {} }) }) },
    { name: 'proxied REST read GET /v2/objects', send: () => fetch(`${g.url}/v2/objects`, { headers: { authorization: `Bearer ${restToken}` } }) },
  ];
  // Warm up every path (JIT, caches) before measuring.
  for (const r of routes) for (let i = 0; i < 50; i++) await (await r.send()).arrayBuffer();

  // The reference worker runs in its own workerd, measured in the same interleaved rounds, so
  // a noisy neighbour on the machine shifts both alike.
  const ref = await startReference();
  const refRoute = { name: 'ref', pid: ref.pid, send: () => fetch(ref.url) };
  for (let i = 0; i < 50; i++) await (await refRoute.send()).arrayBuffer();
  const rounds = QUICK ? 5 : 9;
  const perRound = QUICK ? 100 : 300;
  const cpu = await cpuPerRequest([...routes.map((r) => ({ ...r, pid: g.pid })), refRoute], rounds, perRound);
  await ref.stop();

  out('## Cold start (fresh `workerd serve`; process start → first 200 on /health)');
  for (const c of colds) out(`start→200 ${ms(c.cold)}   first metadata request ${ms(c.first)}   warm median ${ms(c.warm)}`);
  out();
  out(`## CPU per request inside workerd, concurrency 1 (${rounds} interleaved rounds × ${perRound} requests)`);
  out('route                                                    min        median    target');
  for (const r of routes) {
    const xs = cpu[r.name];
    const target = r.name.startsWith('metadata') || r.name.startsWith('unauth') ? '≤ 250 µs' : '';
    out(`${r.name.padEnd(56)} ${us(Math.min(...xs)).padStart(8)}   ${us(median(xs)).padStart(8)}   ${target}`);
  }
  out(`${'reference: trivial JS worker ("ok"), same harness'.padEnd(56)} ${us(Math.min(...cpu.ref)).padStart(8)}   ${us(median(cpu.ref)).padStart(8)}`);
  out();

  // Latency, gateway vs direct (same payloads, sequential).
  const n = QUICK ? 100 : 400;
  const pairs = [
    {
      name: 'proxied REST read (GET /v2/objects)',
      gw: () => fetch(`${g.url}/v2/objects`, { headers: { authorization: `Bearer ${restToken}` } }),
      direct: () => fetch(`${MOCK}/v2/objects`, { headers: { authorization: `Bearer ${attio}` } }),
    },
    {
      name: 'proxied write (POST /v2/objects/people/records/query)',
      gw: () => fetch(`${g.url}/v2/objects/people/records/query`, { method: 'POST', headers: { authorization: `Bearer ${restToken}`, 'content-type': 'application/json' }, body: '{"limit":2}' }),
      direct: () => fetch(`${MOCK}/v2/objects/people/records/query`, { method: 'POST', headers: { authorization: `Bearer ${attio}`, 'content-type': 'application/json' }, body: '{"limit":2}' }),
    },
    {
      name: 'MCP tools/call whoami vs GET /v2/self',
      gw: () => fetch(`${g.url}/mcp`, { method: 'POST', headers: mcpHeaders(mcpToken), body: mcpBody(1, 'tools/call', { name: 'whoami', arguments: {} }) }),
      direct: () => fetch(`${MOCK}/v2/self`, { headers: { authorization: `Bearer ${attio}` } }),
    },
  ];
  // Refresh: our /token rotates our own tokens (no call to Attio); compared with one form POST to
  // the mock's OAuth endpoint (introspection), the nearest direct equivalent.
  // A client and grant of its own: every refresh rotates the family, and only the newest
  // access tokens stay valid, so refreshing the MCP grant would revoke the token the load runs
  // below still use.
  const refreshClient = await registerClient(g.url);
  let refresh = (await tokenResponse(g.url, refreshClient, '/mcp')).refresh_token;
  pairs.push({
    name: 'token refresh (POST /token) vs POST /oauth/introspect',
    gw: async () => {
      const r = await fetch(`${g.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: refreshClient, refresh_token: refresh }) });
      const j = await r.clone().json();
      refresh = j.refresh_token ?? refresh;
      return r;
    },
    direct: () => fetch(`${MOCK}/oauth/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: attio, client_id: ATTIO_CLIENT_ID, client_secret: ATTIO_CLIENT_SECRET }) }),
  });
  out(`## Latency through the gateway vs straight to the mock Attio (loopback, ${n} sequential requests each, interleaved)`);
  out('request                                                   gateway med/p95      direct med/p95     ratio (median)');
  for (const p of pairs) {
    const gw = [];
    const direct = [];
    for (let i = 0; i < n; i++) {
      gw.push(await timed(p.gw));
      direct.push(await timed(p.direct));
    }
    const ratio = median(gw) / median(direct);
    out(`${p.name.padEnd(57)} ${ms(median(gw))}/${ms(pct(gw, 0.95))}   ${ms(median(direct))}/${ms(pct(direct, 0.95))}   ${ratio.toFixed(2)}`);
  }
  out();

  out('## Throughput at saturation (wrk -t2 -c16, loopback; client and servers share the machine)');
  const viaGw = wrk(`${g.url}/v2/objects`, { authorization: `Bearer ${restToken}` });
  const direct = wrk(`${MOCK}/v2/objects`, { authorization: `Bearer ${attio}` });
  const meta = wrk(`${g.url}/.well-known/oauth-authorization-server`);
  const tool = wrk(`${g.url}/mcp`, mcpHeaders(mcpToken), mcpBody(1, 'tools/call', { name: 'whoami', arguments: {} }));
  if (!viaGw || !direct) {
    out('wrk not found: install it (Debian package wrk); scripts/bench does.');
  } else {
    out(`proxied REST read through the gateway  ${viaGw.rps.toFixed(0)} req/s (non-2xx: ${viaGw.non2xx})`);
    out(`same request straight to the mock      ${direct.rps.toFixed(0)} req/s`);
    out(`ratio gateway/direct                   ${(viaGw.rps / direct.rps).toFixed(2)}`);
    out(`metadata route                         ${meta.rps.toFixed(0)} req/s`);
    out(`MCP tools/call whoami                  ${tool.rps.toFixed(0)} req/s (non-2xx: ${tool.non2xx})`);
  }
  out();
  out('## Memory');
  out(`workerd RSS after the run: ${(rssKiB(g.pid) / 1024).toFixed(1)} MiB`);
  await g.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
