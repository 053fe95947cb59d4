// An MCP agent built on the official TypeScript SDK (@modelcontextprotocol/sdk, pinned in
// package.json), used by the end-to-end tests and usable by hand against `./scripts/dev`:
//
//   node tests/sdk-client/agent.mjs http://127.0.0.1:8787/mcp [protocol-revision] [--every-tool]
//
// It does what Claude or Cursor do: discovers the authorization server from the 401, registers
// itself (RFC 7591), sends the person to the consent page (it prints `AUTHORIZE <url>`: open it in
// a browser, or let a test play the browser), receives the code on a loopback callback, exchanges
// it with PKCE, then lists the tools and makes one read and one write call. Every step's outcome
// is printed as one `RESULT <json>` line at the end.
//
// The optional revision makes the client ask for that MCP protocol revision in `initialize`
// (the SDK otherwise always asks for its newest), so one SDK exercises each revision it speaks.
//
// `--every-tool` (for the demo data of `./scripts/dev` and the tests only: it writes and deletes)
// then calls every tool at least once, finding the ids it needs through the tools themselves,
// and writing only on what it created. The SDK checks each structured result against the tool's
// outputSchema as it goes.

import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const args = process.argv.slice(2);
const everyTool = args.includes('--every-tool');
const [serverUrl, revision] = args.filter((a) => a !== '--every-tool');
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

/** Calls every tool once or more; returns {tool: ["ok" | the error text, …]}. */
async function tour(client) {
  const calls = {};
  const call = async (name, args) => {
    let result;
    try {
      result = await client.callTool({ name, arguments: args });
    } catch (error) {
      (calls[name] ??= []).push(`threw: ${error?.message ?? error}`);
      throw error;
    }
    (calls[name] ??= []).push(result.isError ? text(result).slice(0, 300) : 'ok');
    if (result.isError) throw new Error(`${name}: ${text(result).slice(0, 300)}`);
    return result.structuredContent;
  };
  try {
    await call('whoami', {});
    await call('list_objects', {});
    await call('list_attributes', { object: 'companies' });
    await call('list_attribute_options', { object: 'deals', attribute: 'stage' });
    const initech = (await call('search_records', { query: 'initech', objects: ['companies'] })).data[0].id;
    await call('query_records', { object: 'companies', limit: 2 });
    await call('get_record', { object: 'companies', record_id: initech });
    const entry = (await call('list_record_entries', { object: 'companies', record_id: initech })).data[0];
    const list = entry.list_api_slug;
    await call('record_activity', { object: 'companies', record_id: initech, since: '2024-01-01' });
    await call('list_lists', {});
    await call('get_list', { list });
    await call('query_list_entries', { list });
    await call('get_list_entry', { list, entry_id: entry.entry_id });
    const notes = await call('list_notes', { parent_object: 'companies', parent_record_id: initech });
    await call('get_note', { note_id: notes.data[0].id });
    const tasks = await call('list_tasks', { linked_object: 'companies', linked_record_id: initech });
    await call('get_task', { task_id: tasks.data[0].id });
    await call('list_workspace_members', {});
    const meetings = await call('list_meetings', { linked_object: 'companies', linked_record_id: initech, sort: 'start_asc' });
    const meeting = meetings.data[0].id;
    await call('get_meeting', { meeting_id: meeting });
    const recording = (await call('list_call_recordings', { meeting_id: meeting })).data[0].id;
    await call('get_call_recording', { meeting_id: meeting, call_recording_id: recording });
    await call('get_transcript', { meeting_id: meeting, call_recording_id: recording });
    const threads = await call('list_comment_threads', { object: 'companies', record_id: initech });
    await call('get_comment_thread', { thread_id: threads.data[0].id });

    const made = (await call('create_record', { object: 'companies', values: { name: 'SDK tour Co' } })).data.id;
    await call('update_record', { object: 'companies', record_id: made, values: { description: 'Touched by the SDK tour' } });
    const upserted = (await call('upsert_record', {
      object: 'companies', matching_attribute: 'domains', values: { name: 'SDK tour Two', domains: ['sdk-tour.example'] },
    })).data.id;
    const added = (await call('add_list_entry', { list, parent_object: 'companies', parent_record_id: made })).data.id;
    await call('update_list_entry', { list, entry_id: added, entry_values: { stage: 'Closed' } });
    await call('remove_list_entry', { list, entry_id: added });
    const note = (await call('create_note', { parent_object: 'companies', parent_record_id: made, title: 'Tour', content: 'x' })).data.id;
    await call('delete_note', { note_id: note });
    const task = (await call('create_task', { content: 'Tour task', assignees: ['bob@acme.example'] })).data.id;
    await call('update_task', { task_id: task, is_completed: true });
    await call('delete_task', { task_id: task });
    const comment = (await call('create_comment', { content: 'Tour comment', object: 'companies', record_id: made })).data.id;
    await call('delete_comment', { comment_id: comment });
    await call('delete_record', { object: 'companies', record_id: upserted });
    await call('delete_record', { object: 'companies', record_id: made });
  } catch (error) {
    calls.stoppedAt = String(error?.message ?? error);
  }
  return calls;
}

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
    if (everyTool) report.everyTool = await tour(client);
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
