// The peer the benchmark measures the gateway against: the same product written the way most
// people would write it on Cloudflare today, in JavaScript with the ecosystem's own libraries.
//
// - @cloudflare/workers-oauth-provider's OAuthProvider is the authorization server (DCR, PKCE
//   code flow, refresh) and guards the API routes; grants and tokens live in KV (OAUTH_KV).
// - /mcp is the official MCP SDK: an McpServer with one tool, `whoami` (GET /v2/self at Attio),
//   served by WebStandardStreamableHTTPServerTransport, stateless with JSON responses, a fresh
//   server and transport for every request (the SDK's recipe for stateless servers).
// - /v2/* passes the request through to Attio with the grant's Attio token, the counterpart of
//   the gateway's REST proxy.
// - /mcp/audit is /mcp plus one audit entry per tool call, written to KV after the response
//   (ctx.waitUntil) as the gateway writes its own; the benchmark measures it to price that work.
//
// Only the path after authorization is compared, so /authorize approves at once and puts the
// Attio token the benchmark minted (TEST_ATTIO_TOKEN) in the grant's props.
//
// ORIGIN is replaced at bundle time (build.mjs, esbuild --define): OAuthProvider takes its
// options once, at module scope, so the protected resource must be known before any request.
//
// The resource is the whole origin rather than `${ORIGIN}/mcp`: workers-oauth-provider 1.2 refuses
// an apiRoute outside the configured resource (here /v2/), and its documentation's way to cover
// several paths with one provider is to name the bare origin. Tokens are therefore requested with
// resource=ORIGIN.

import OAuthProvider from '@cloudflare/workers-oauth-provider';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/* global ORIGIN */

const AUDIT_TTL_SECONDS = 90 * 24 * 3600;

function auditWriter(env, ctx) {
  return (tool, ok) => {
    const now = Date.now();
    const suffix = [...crypto.getRandomValues(new Uint8Array(6))].map((b) => b.toString(16).padStart(2, '0')).join('');
    // Newest first under a user's prefix: the key sorts by the time left until the far future.
    const key = `audit:${ctx.auth.userId}:${String(Number.MAX_SAFE_INTEGER - now).padStart(16, '0')}:${suffix}`;
    const entry = { at: now, client_id: ctx.auth.clientId, tool, outcome: ok ? 'ok' : 'error' };
    ctx.waitUntil(env.OAUTH_KV.put(key, JSON.stringify(entry), { expirationTtl: AUDIT_TTL_SECONDS }));
  };
}

function mcpServer(env, props, audit) {
  const server = new McpServer({ name: 'attio-peer', version: '1.0.0' });
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'The Attio workspace and member this connection acts as.',
      inputSchema: {},
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    async () => {
      const res = await fetch(`${env.ATTIO_API_BASE_URL}/v2/self`, {
        headers: { authorization: `Bearer ${props.attioToken}`, accept: 'application/json' },
      });
      const text = await res.text();
      audit?.('whoami', res.ok);
      return { content: [{ type: 'text', text }], isError: !res.ok };
    },
  );
  return server;
}

async function handleMcp(request, env, ctx, audit) {
  const server = mcpServer(env, ctx.props, audit);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  return transport.handleRequest(request);
}

// Attio's REST API, passed through with the grant's token in place of ours.
function proxyToAttio(request, env, ctx) {
  const url = new URL(request.url);
  const upstream = new Request(`${env.ATTIO_API_BASE_URL}${url.pathname}${url.search}`, request);
  upstream.headers.set('authorization', `Bearer ${ctx.props.attioToken}`);
  return fetch(upstream);
}

const apiHandler = {
  fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === '/mcp') return handleMcp(request, env, ctx);
    if (pathname === '/mcp/audit') return handleMcp(request, env, ctx, auditWriter(env, ctx));
    if (pathname.startsWith('/v2/')) return proxyToAttio(request, env, ctx);
    return new Response('Not found', { status: 404 });
  },
};

const defaultHandler = {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/health') return new Response('ok');
    if (url.pathname === '/authorize') {
      const authRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request);
      const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
        request: authRequest,
        userId: 'bench-admin',
        metadata: { label: 'benchmark' },
        scope: authRequest.scope,
        props: { attioToken: env.TEST_ATTIO_TOKEN },
      });
      return Response.redirect(redirectTo, 302);
    }
    return new Response('Not found', { status: 404 });
  },
};

export default new OAuthProvider({
  apiRoute: ['/mcp', '/v2/'],
  apiHandler,
  defaultHandler,
  authorizeEndpoint: '/authorize',
  tokenEndpoint: '/token',
  clientRegistrationEndpoint: '/register',
  scopesSupported: ['attio:read', 'attio:write'],
  requiredScopes: ['attio:read'],
  resourceMetadata: {
    resource: ORIGIN,
    authorization_servers: [ORIGIN],
    resource_name: 'Attio (benchmark peer)',
  },
});
