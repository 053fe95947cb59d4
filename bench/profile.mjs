// Where a request's CPU goes: runs the gateway in bare workerd with the V8 inspector on, records a
// CPU profile (Chrome DevTools Protocol) over many requests to one route, and prints the functions
// with the most self time, Rust (wasm) and JS alike. Used by `scripts/bench --profile ROUTE`;
// wants a wasm with its names section (scripts/bench builds one for this).
//
// Env: MOCK_URL, BENCH_WASM (the named wasm), PROFILE_ROUTE (metadata | 401 | tool | proxy),
// PROFILE_REQUESTS (default 2000). Needs Node 22 (global WebSocket).

import path from 'node:path';
import { freePort, startWorkerd } from './workerd.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const MOCK = process.env.MOCK_URL;
const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const ADMIN = '50cf242c-7fa3-4cad-87d0-75b1af71c57b';
const N = Number(process.env.PROFILE_REQUESTS ?? 2000);

async function token(url, resource) {
  const reg = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'profile', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
  }).then((r) => r.json());
  const q = new URLSearchParams({
    response_type: 'code', client_id: reg.client_id, redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: CHALLENGE,
    code_challenge_method: 'S256', scope: 'attio:read attio:write', resource: `${url}${resource}`,
  });
  const r = await fetch(`${url}/authorize?${q}`, { redirect: 'manual' });
  const code = new URL(r.headers.get('location')).searchParams.get('code');
  const t = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: reg.client_id, code, code_verifier: VERIFIER, redirect_uri: 'http://127.0.0.1:9/cb' }),
  }).then((r) => r.json());
  return t.access_token;
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

async function main() {
  const mint = await fetch(`${MOCK}/__mock/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ member_id: ADMIN }),
  }).then((r) => r.json());
  const inspector = await freePort();
  const g = await startWorkerd({
    modules: [
      { name: 'index.js', file: path.join(root, 'build/index.js'), type: 'esModule' },
      { name: 'index_bg.wasm', file: process.env.BENCH_WASM ?? path.join(root, 'build/index_bg.wasm'), type: 'wasm' },
    ],
    kv: ['GATEWAY_KV'],
    durableObjects: { TRANSITIONS: 'Transitions' },
    bindings: {
      ATTIO_APP_BASE_URL: MOCK, ATTIO_API_BASE_URL: MOCK,
      ATTIO_CLIENT_ID: '3c90c3cc-0d44-4b50-8888-8dd25736052a', ATTIO_CLIENT_SECRET: 'mock-attio-client-secret',
      VAULT_KEYS: `k1:${KEY}`, SIGNING_KEY: KEY, INSECURE_TEST_MODE: '1', TEST_AUTO_APPROVE: '1', TEST_ATTIO_TOKEN: mint.access_token,
    },
    inspector,
  });
  const mcpHeaders = (t) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' });
  const body = (method, params) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
  const route = process.env.PROFILE_ROUTE ?? 'metadata';
  let send;
  if (route === 'metadata') send = () => fetch(`${g.url}/.well-known/oauth-authorization-server`);
  else if (route === '401') send = () => fetch(`${g.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('ping', {}) });
  else if (route === 'tool') {
    const t = await token(g.url, '/mcp');
    send = () => fetch(`${g.url}/mcp`, { method: 'POST', headers: mcpHeaders(t), body: body('tools/call', { name: 'whoami', arguments: {} }) });
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
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url ? `[${path.basename(node.callFrame.url)}]` : ''}`;
    self.set(name, (self.get(name) ?? 0) + t);
  }
  const busy = total - (self.get('(idle) ') ?? 0) - (self.get('(program) ') ?? 0);
  console.log(`# CPU profile: ${route}, ${N} requests; isolate busy ${(busy / N).toFixed(0)} µs/request (sampled, excludes idle and "(program)")`);
  console.log(`(program) ${((self.get('(program) ') ?? 0) / N).toFixed(0)} µs/request`);
  for (const [name, t] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${(t / N).toFixed(1).padStart(8)} µs  ${(100 * t / total).toFixed(1).padStart(5)}%  ${name.slice(0, 150)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
