// The gateway as the benchmark and the profiler run it: started in bare workerd against a mock
// Attio, with tokens obtained through the real OAuth flow (test mode auto-approves as the owner
// of an Attio token the mock mints), and the MCP request shapes both send.

import path from 'node:path';
import { startWorkerd } from './workerd.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const ADMIN = '50cf242c-7fa3-4cad-87d0-75b1af71c57b';
const REDIRECT = 'http://127.0.0.1:9/cb';
export const ATTIO_CLIENT_ID = '3c90c3cc-0d44-4b50-8888-8dd25736052a';
export const ATTIO_CLIENT_SECRET = 'mock-attio-client-secret';

/** An Attio access token for the mock's admin member. */
export async function mintAttioToken(mock) {
  const r = await fetch(`${mock}/__mock/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ member_id: ADMIN }),
  });
  return (await r.json()).access_token;
}

/** The gateway in test mode, its Attio connection being `attioToken` (`kvStats`: see workerd.mjs). */
export function startGateway(mock, attioToken, { wasm = path.join(root, 'build/index_bg.wasm'), inspector, kvStats = false } = {}) {
  return startWorkerd({
    modules: [
      { name: 'index.js', file: path.join(root, 'build/index.js'), type: 'esModule' },
      { name: 'index_bg.wasm', file: wasm, type: 'wasm' },
    ],
    kv: ['GATEWAY_KV'],
    durableObjects: { TRANSITIONS: 'Transitions' },
    bindings: {
      ATTIO_APP_BASE_URL: mock, ATTIO_API_BASE_URL: mock,
      ATTIO_CLIENT_ID, ATTIO_CLIENT_SECRET, VAULT_KEYS: `k1:${KEY}`, SIGNING_KEY: KEY,
      INSECURE_TEST_MODE: '1', TEST_AUTO_APPROVE: '1', TEST_ATTIO_TOKEN: attioToken,
    },
    inspector,
    kvStats,
  });
}

/** Registers a public client; returns its id. */
export async function registerClient(url) {
  const r = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'bench', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  return (await r.json()).client_id;
}

/** Authorize (auto-approved) and redeem the code with PKCE: the token response for `resource`. */
export async function tokenResponse(url, clientId, resource) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: CHALLENGE,
    code_challenge_method: 'S256', scope: 'attio:read attio:write', resource: `${url}${resource}`,
  });
  const r = await fetch(`${url}/authorize?${q}`, { redirect: 'manual' });
  const code = new URL(r.headers.get('location')).searchParams.get('code');
  const t = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: VERIFIER, redirect_uri: REDIRECT }),
  });
  return t.json();
}

export const mcpBody = (id, method, params) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
export function mcpHeaders(token) {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
}
