// The gateway's peers as the benchmark runs them, each in its own bare workerd (bench/workerd.mjs)
// with the same in-memory KV service the gateway gets:
// - the TypeScript peer (bench/peer/worker.js: workers-oauth-provider + the official MCP SDK),
//   bundled for the port it will listen on, its tokens obtained through its own OAuth flow;
// - the pass-through worker (bench/peer/passthrough.js), the floor for any worker in the middle.

import fs from 'node:fs';
import path from 'node:path';
import { registerClient, tokenResponse } from './gateway.mjs';
import { buildPeer } from './peer/build.mjs';
import { freePort, startWorkerd } from './workerd.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

/** The versions the peer was built from (its own node_modules). */
export function peerVersions() {
  const v = (name) => JSON.parse(fs.readFileSync(path.join(here, 'peer/node_modules', name, 'package.json'), 'utf8')).version;
  return {
    oauthProvider: v('@cloudflare/workers-oauth-provider'),
    mcpSdk: v('@modelcontextprotocol/sdk'),
    zod: v('zod'),
  };
}

/** Bundles the peer (unminified, as wrangler deploys it, and minified for comparison). */
export function peerBundles(origin) {
  return { plain: buildPeer(origin), minified: buildPeer(origin, { minify: true }) };
}

/** The peer on a port of its own, its Attio connection being `attioToken`. */
export async function startPeer(mock, attioToken, { kvStats = false } = {}) {
  const port = await freePort();
  const file = buildPeer(`http://127.0.0.1:${port}`);
  return startWorkerd({
    port,
    modules: [{ name: 'peer.js', file, type: 'esModule' }],
    kv: ['OAUTH_KV'],
    bindings: { ATTIO_API_BASE_URL: mock, TEST_ATTIO_TOKEN: attioToken },
    kvStats,
  });
}

/** The pass-through worker in front of `mock`. Its health check goes through to the mock's `/`. */
export function startPassThrough(mock) {
  return startWorkerd({
    modules: [{ name: 'passthrough.js', file: path.join(here, 'peer/passthrough.js'), type: 'esModule' }],
    bindings: { UPSTREAM: mock },
    health: '/',
  });
}

/**
 * A token response from the peer through its real flow: dynamic registration of a public client,
 * /authorize (auto-approved) with PKCE S256, then /token. The peer's protected resource is its
 * origin (see worker.js), so that is the resource asked for.
 */
export async function peerTokenResponse(url) {
  const clientId = await registerClient(url);
  if (!clientId) throw new Error('peer: client registration failed');
  const t = await tokenResponse(url, clientId, '');
  if (!t.access_token) throw new Error(`peer: no access token: ${JSON.stringify(t)}`);
  return { clientId, ...t };
}
