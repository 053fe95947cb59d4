// Where a request's CPU goes: runs the gateway in bare workerd with the V8 inspector on, records a
// CPU profile (Chrome DevTools Protocol) over many requests to one route, and prints the functions
// with the most self time, Rust (wasm) and JS alike. Used by `scripts/bench --profile ROUTE`;
// wants a wasm with its names section (scripts/bench builds one for this).
//
// Env: MOCK_URL, BENCH_WASM (the named wasm), PROFILE_ROUTE (metadata | 401 | tool | proxy),
// PROFILE_REQUESTS (default 2000). Needs Node 22 (global WebSocket).

import fs from 'node:fs';
import path from 'node:path';
import { mcpBody, mcpHeaders, mintAttioToken, registerClient, startGateway, tokenResponse } from './gateway.mjs';
import { freePort } from './workerd.mjs';

const MOCK = process.env.MOCK_URL;
const N = Number(process.env.PROFILE_REQUESTS ?? 2000);

async function token(url, resource) {
  return (await tokenResponse(url, await registerClient(url), resource)).access_token;
}

function cdp(wsUrl) {
  const ws = new WebSocket(wsUrl);
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const opened = new Promise((res, rej) => {
    ws.onopen = res;
    ws.onerror = rej;
  });
  const send = async (method, params = {}) => {
    await opened;
    const n = ++id;
    ws.send(JSON.stringify({ id: n, method, params }));
    const msg = await new Promise((res) => pending.set(n, res));
    if (msg.error) throw new Error(`${method}: ${JSON.stringify(msg.error)}`);
    return msg.result;
  };
  return { send, close: () => ws.close() };
}

// The shim is minified: a JS frame is named by where it starts, with the source there.
const shim = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'build/index.js'), 'utf8').split('\n');
function where({ url, lineNumber, columnNumber }) {
  if (!url.endsWith('index.js') || lineNumber < 0) return '';
  return `:${lineNumber + 1}:${columnNumber} ${JSON.stringify((shim[lineNumber] ?? '').slice(columnNumber, columnNumber + 60))}`;
}

async function main() {
  const inspector = await freePort();
  const g = await startGateway(MOCK, await mintAttioToken(MOCK), { wasm: process.env.BENCH_WASM, inspector });
  const route = process.env.PROFILE_ROUTE ?? 'metadata';
  let send;
  if (route === 'metadata') send = () => fetch(`${g.url}/.well-known/oauth-authorization-server`);
  else if (route === '401') send = () => fetch(`${g.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: mcpBody(1, 'ping', {}) });
  else if (route === 'tool') {
    const t = await token(g.url, '/mcp');
    send = () => fetch(`${g.url}/mcp`, { method: 'POST', headers: mcpHeaders(t), body: mcpBody(1, 'tools/call', { name: 'whoami', arguments: {} }) });
  } else if (route === 'proxy') {
    const t = await token(g.url, '/v2');
    send = () => fetch(`${g.url}/v2/objects`, { headers: { authorization: `Bearer ${t}` } });
  } else throw new Error(`unknown route ${route}`);

  for (let i = 0; i < 200; i++) await (await send()).arrayBuffer();
  const c = cdp(`ws://127.0.0.1:${inspector}/main`);
  await c.send('Profiler.enable');
  await c.send('Profiler.setSamplingInterval', { interval: 50 });
  await c.send('Profiler.start');
  for (let i = 0; i < N; i++) await (await send()).arrayBuffer();
  const { profile } = await c.send('Profiler.stop');
  c.close();
  await g.stop();

  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const self = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const t = dt.get(node.id) ?? 0;
    total += t;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url ? `[${path.basename(node.callFrame.url)}${where(node.callFrame)}]` : ''}`;
    self.set(name, (self.get(name) ?? 0) + t);
  }
  const busy = total - (self.get('(idle) ') ?? 0) - (self.get('(program) ') ?? 0);
  console.log(`# CPU profile: ${route}, ${N} requests; isolate busy ${(busy / N).toFixed(0)} µs/request (sampled, excludes idle and "(program)")`);
  console.log(`(program) ${((self.get('(program) ') ?? 0) / N).toFixed(0)} µs/request`);
  for (const [name, t] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${(t / N).toFixed(1).padStart(8)} µs  ${(100 * t / total).toFixed(1).padStart(5)}%  ${name.slice(0, 170)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
