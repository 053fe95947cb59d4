// An MCP agent built on the official TypeScript SDK (@modelcontextprotocol/sdk, pinned in
// package.json), used by the end-to-end tests and usable by hand against `./scripts/dev`:
//
//   node tests/sdk-client/agent.mjs http://127.0.0.1:8787/mcp [protocol-revision]
//
// It does what Claude or Cursor do: discovers the authorization server from the 401, registers
// itself (RFC 7591), sends the person to the consent page (it prints `AUTHORIZE <url>`: open it in
// a browser, or let a test play the browser), receives the code on a loopback callback, exchanges
// it with PKCE, then lists the tools and makes one read and one write call. Every step's outcome
// is printed as one `RESULT <json>` line at the end.
//
// The optional revision makes the client ask for that MCP protocol revision in `initialize`
// (the SDK otherwise always asks for its newest), so one SDK exercises each revision it speaks.

import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const [serverUrl, revision] = process.argv.slice(2);
if (!serverUrl) {
  console.error('usage: agent.mjs <mcp-url> [protocol-revision]');
  process.exit(2);
}

/** Resolves with the authorization code the browser brings back to our loopback callback. */
function startCallbackServer() {
  let deliver;
  const code = new Promise((resolve) => (deliver = resolve));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const got = url.searchParams.get('code');
    res.writeHead(got ? 200 : 400, { 'content-type': 'text/plain' });
    res.end(got ? 'Signed in; you can close this tab.' : `Authorization failed: ${url.searchParams.get('error')}`);
    deliver(got ? { code: got, iss: url.searchParams.get('iss') } : { error: url.searchParams.get('error') });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, code }));
  });
}

/** Keeps everything in memory: a fresh client on every run. */
class MemoryProvider {
  constructor(redirectUrl) {
    this._redirectUrl = redirectUrl;
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  get clientMetadata() {
    return {
      client_name: 'SDK agent (e2e)',
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'attio:read attio:write',
    };
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
  }
  redirectToAuthorization(url) {
    console.log(`AUTHORIZE ${url.toString()}`);
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    return this._verifier;
  }
}

/** `fetch` that asks for `revision` in `initialize` (the rest of the SDK follows the answer). */
function fetchAsking(revision) {
  return async (url, init) => {
    if (revision && typeof init?.body === 'string') {
      try {
        const message = JSON.parse(init.body);
        if (message.method === 'initialize') {
          message.params.protocolVersion = revision;
          init = { ...init, body: JSON.stringify(message) };
        }
      } catch {
        // Not JSON (a form post to /token): send it as it is.
      }
    }
    return fetch(url, init);
  };
}

async function connect(provider) {
  const client = new Client({ name: 'sdk-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    authProvider: provider,
    fetch: fetchAsking(revision),
  });
  await client.connect(transport);
  return { client, transport };
}

const text = (result) => result.content?.find((c) => c.type === 'text')?.text ?? '';

async function main() {
  const callback = await startCallbackServer();
  const provider = new MemoryProvider(`http://127.0.0.1:${callback.port}/callback`);
  const report = {};
  try {
    try {
      await connect(provider);
      throw new Error('the server accepted an unauthenticated client');
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
    }
    const back = await callback.code;
    if (back.error) throw new Error(`authorization failed: ${back.error}`);
    report.iss = back.iss;
    const probe = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
    await probe.finishAuth(back.code);
    report.tokenType = provider.tokens()?.token_type;
    report.hasRefreshToken = Boolean(provider.tokens()?.refresh_token);

    const { client, transport } = await connect(provider);
    report.protocolVersion = transport.protocolVersion;
    report.serverName = client.getServerVersion()?.name;
    const { tools } = await client.listTools();
    report.tools = tools.map((t) => t.name);

    const me = await client.callTool({ name: 'whoami', arguments: {} });
    report.whoami = { isError: me.isError ?? false, structured: me.structuredContent };

    const found = await client.callTool({ name: 'search_records', arguments: { query: 'hooli', objects: ['companies'] } });
    const hooli = found.structuredContent?.data?.[0]?.id;
    const title = `SDK note (${revision ?? 'default revision'})`;
    const note = await client.callTool({
      name: 'create_note',
      arguments: { parent_object: 'companies', parent_record_id: hooli, title, content: 'Written through the SDK' },
    });
    report.write = { isError: note.isError ?? false, title, text: text(note).slice(0, 200) };
    await client.close();
  } catch (error) {
    report.error = String(error?.stack ?? error);
  } finally {
    callback.server.close();
  }
  console.log(`RESULT ${JSON.stringify(report)}`);
  process.exit(report.error ? 1 : 0);
}

main();
