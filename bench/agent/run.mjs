// The task benchmark (issue 28): the same sales tasks, on the same mock Attio data, through the
// gateway's /mcp and through attio-mcp 1.6.1 (kesslerio's self-run Attio MCP server, started
// over stdio with an API key and ATTIO_BASE_URL pointed at the mock). Each task is a fixed call
// sequence per server, what a competent agent would do with that server's tools (no model
// involved), and its result is checked against the mock's own data. Printed per task: calls,
// bytes of the result text (what the model reads) and of the whole result, success; per server:
// tools/list bytes, whole and model-facing, with tokens estimated as bytes ÷ 4.
//
// Run by `./scripts/bench --agent` (which builds the bundle and the mock and installs the peer);
// env: MOCK_URL, a running mock Attio.

import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mcpBody, mcpHeaders, mintAttioToken, registerClient, startGateway, tokenResponse } from '../gateway.mjs';

const MOCK = process.env.MOCK_URL;
if (!MOCK) throw new Error('MOCK_URL: a running mock Attio');
const here = path.dirname(new URL(import.meta.url).pathname);
const ADMIN = '50cf242c-7fa3-4cad-87d0-75b1af71c57b';
const COMPANIES = 600;

// ---------------------------------------------------------------------------------------------
// The two servers, behind one `call(name, args)` that returns the result as MCP sends it.

async function ourServer(attio) {
  const gw = await startGateway(MOCK, attio);
  const token = (await tokenResponse(gw.url, await registerClient(gw.url), '/mcp')).access_token;
  let id = 0;
  const rpc = async (method, params) => {
    const r = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: mcpHeaders(token), body: mcpBody(++id, method, params) });
    const body = await r.json();
    if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  };
  return { name: 'gateway', list: () => rpc('tools/list', {}), call: (name, args) => rpc('tools/call', { name, arguments: args }), stop: () => gw.stop() };
}

async function peerServer(attio) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(here, 'node_modules/attio-mcp/dist/cli.js')],
    env: { ...process.env, ATTIO_API_KEY: attio, ATTIO_BASE_URL: `${MOCK}/v2` },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'task-bench', version: '1' });
  await client.connect(transport);
  return {
    name: 'attio-mcp',
    list: () => client.listTools(),
    call: (name, args) => client.callTool({ name, arguments: args }),
    stop: () => client.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// The mock's own data, read straight from its REST API: what each task's answer must contain.

async function attio(token, method, p, body) {
  const r = await fetch(`${MOCK}/v2${p}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  return r.json();
}

async function truth(token) {
  const find = async (object, name) => (await attio(token, 'POST', `/objects/${object}/records/query`, { filter: { name }, limit: 1 })).data[0];
  const initech = await find('companies', 'Initech');
  const deal = await find('deals', 'Initech renewal');
  const notes = (await attio(token, 'GET', `/notes?parent_object=companies&parent_record_id=${initech.id.record_id}&limit=50`)).data;
  const tasks = (await attio(token, 'GET', '/tasks?limit=100')).data;
  const mine = tasks.filter((t) => !t.is_completed && t.assignees.some((a) => a.referenced_actor_id === ADMIN));
  const others = tasks.filter((t) => !mine.includes(t));
  const meetings = (await attio(token, 'GET', `/meetings?linked_object=companies&linked_record_id=${initech.id.record_id}&limit=50`)).data;
  const past = meetings.filter((m) => Date.parse(m.start.datetime ?? m.start.date) < Date.now())
    .sort((a, b) => Date.parse(b.start.datetime ?? b.start.date) - Date.parse(a.start.datetime ?? a.start.date));
  const latest = past[0];
  const recordings = (await attio(token, 'GET', `/meetings/${latest.id.meeting_id}/call_recordings?limit=10`)).data;
  const transcript = (await attio(token, 'GET', `/meetings/${latest.id.meeting_id}/call_recordings/${recordings[0].id.call_recording_id}/transcript`)).data;
  const words = transcript.transcript.slice(0, 6).map((s) => s.speech).join(' ');
  return { initech, deal, notes, mine, others, latest, firstWords: words.split(/\s+/).slice(0, 3) };
}

/** 600 companies in all: the seeded ones and numbered ones, created once. */
async function seedCompanies(token) {
  const have = (await attio(token, 'POST', '/objects/companies/records/query', { limit: 1000 })).data.length;
  for (let i = have; i < COMPANIES; i++) {
    const n = String(i).padStart(3, '0');
    await attio(token, 'POST', '/objects/companies/records', { data: { values: { name: `Bench company ${n}`, domains: [`bench${n}.example`] } } });
  }
}

// ---------------------------------------------------------------------------------------------
// The tasks: a fixed sequence per server; `check(text)` on the concatenated result texts.

const texts = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const idIn = (text, pattern) => text.match(pattern)?.[1];
const UUID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';

function tasks(t) {
  const initechId = t.initech.id.record_id;
  const dealId = t.deal.id.record_id;
  const searchOurs = async (s, q, objects) => s.call('search_records', { query: q, objects });
  const searchPeer = async (s, q, type) => s.call('search_records', { resource_type: type, query: q });
  // The record id a search answered: ours in its structured result, the peer's in its text
  // (Attio's id object, `record_id`).
  const firstId = (r) => r.structuredContent?.data?.[0]?.id ?? idIn(texts(r), new RegExp(`"record_id":"${UUID}"`));
  return [
    {
      name: 'find a company and its key details',
      check: (text) => text.includes('initech.example') && text.includes('Enterprise software'),
      ours: async (s) => { const a = await searchOurs(s, 'Initech', ['companies']); return [a, await s.call('get_record', { object: 'companies', record_id: firstId(a) })]; },
      peer: async (s) => { const a = await searchPeer(s, 'Initech', 'companies'); return [a, await s.call('get_record_details', { resource_type: 'companies', record_id: firstId(a) })]; },
    },
    {
      name: "a record's notes",
      check: (text) => t.notes.length > 0 && t.notes.every((n) => text.includes(n.title)),
      ours: async (s) => { const a = await searchOurs(s, 'Initech', ['companies']); return [a, await s.call('list_notes', { parent_object: 'companies', parent_record_id: firstId(a) })]; },
      peer: async (s) => { const a = await searchPeer(s, 'Initech', 'companies'); return [a, await s.call('list_notes', { resource_type: 'companies', record_id: firstId(a) })]; },
    },
    {
      name: 'my open tasks',
      check: (text) => t.mine.every((x) => text.includes(x.content_plaintext)) && !t.others.some((x) => text.includes(x.content_plaintext)),
      ours: async (s) => {
        const me = await s.call('whoami', {});
        return [me, await s.call('list_tasks', { assignee: me.structuredContent.data.member.id, is_completed: false })];
      },
      // No tool lists tasks by assignee; the nearest a competent agent has is a task search.
      peer: async (s) => [await searchPeer(s, '', 'tasks')],
    },
    {
      name: 'what happened with a company recently',
      check: (text) => text.includes(t.latest.title) && t.notes.every((n) => text.includes(n.title)),
      ours: async (s) => {
        const a = await searchOurs(s, 'Initech', ['companies']);
        const recent = await s.call('record_activity', { object: 'companies', record_id: firstId(a) });
        // Nothing in the default 90 days but what is ahead: follow the `older` hint back.
        if (!recent.structuredContent?.older) return [a, recent];
        return [a, recent, await s.call('record_activity', { object: 'companies', record_id: firstId(a), since: '2000-01-01T00:00:00Z' })];
      },
      peer: async (s) => {
        const a = await searchPeer(s, 'Initech', 'companies');
        const id = firstId(a);
        return [a, await s.call('get_record_interactions', { resource_type: 'companies', record_id: id }), await s.call('list_notes', { resource_type: 'companies', record_id: id })];
      },
    },
    {
      name: 'the transcript of the latest call',
      check: (text) => t.firstWords.every((w) => text.includes(w)) && /\[\d\d:\d\d\]/.test(text),
      ours: async (s) => {
        const a = await searchOurs(s, 'Initech', ['companies']);
        const past = await s.call('list_meetings', { linked_object: 'companies', linked_record_id: firstId(a), starts_before: new Date().toISOString(), limit: 1 });
        const meeting = past.structuredContent.data[0].id;
        const recordings = await s.call('list_call_recordings', { meeting_id: meeting });
        const recording = recordings.structuredContent.data[0].id;
        return [a, past, recordings, await s.call('get_transcript', { meeting_id: meeting, call_recording_id: recording })];
      },
      peer: null, // no meeting or transcript tool
    },
    {
      name: 'page through 600 companies',
      check: (text) => [...Array(COMPANIES - 3).keys()].every((i) => text.includes(`Bench company ${String(i + 3).padStart(3, '0')}`)),
      ours: async (s) => {
        const out = [];
        let offset = 0;
        for (;;) {
          const r = await s.call('query_records', { object: 'companies', limit: 500, offset, attributes: ['name'] });
          out.push(r);
          const page = r.structuredContent ?? JSON.parse(texts(r));
          if (!page.has_more || out.length > 20) return out;
          offset = page.next_offset;
        }
      },
      peer: async (s) => {
        const out = [];
        for (let offset = 0; out.length <= 20; offset += 100) {
          const r = await s.call('search_records', { resource_type: 'companies', query: '', limit: 100, offset });
          out.push(r);
          if (r.isError || (texts(r).match(/Bench company|Initech|Umbrella|Hooli/g) ?? []).length < 100) return out;
        }
        return out;
      },
    },
    {
      name: 'add a note',
      write: true,
      check: async (_text, who) => (await attio(t.token, 'GET', `/notes?parent_object=companies&parent_record_id=${initechId}&limit=50`)).data.some((n) => n.title === `Call summary (${who})`),
      ours: async (s) => { const a = await searchOurs(s, 'Initech', ['companies']); return [a, await s.call('create_note', { parent_object: 'companies', parent_record_id: firstId(a), title: 'Call summary (gateway)', content: 'Agreed on the SSO quote.' })]; },
      peer: async (s) => { const a = await searchPeer(s, 'Initech', 'companies'); return [a, await s.call('create_note', { resource_type: 'companies', record_id: firstId(a), title: 'Call summary (attio-mcp)', content: 'Agreed on the SSO quote.' })]; },
    },
    {
      name: 'move a deal to another stage',
      write: true,
      check: async (_text, who) => {
        const deal = await attio(t.token, 'GET', `/objects/deals/records/${dealId}`);
        const stage = deal.data.values.stage?.[0]?.status?.title;
        return stage === (who === 'gateway' ? 'Won 🎉' : 'Lost');
      },
      ours: async (s) => { const a = await searchOurs(s, 'Initech renewal', ['deals']); return [a, await s.call('update_record', { object: 'deals', record_id: firstId(a), values: { stage: 'Won 🎉' }, mode: 'overwrite' })]; },
      peer: async (s) => { const a = await searchPeer(s, 'Initech renewal', 'deals'); return [a, await s.call('update_record', { resource_type: 'deals', record_id: firstId(a), record_data: { stage: 'Lost' } })]; },
    },
  ];
}

// ---------------------------------------------------------------------------------------------

async function runTask(task, server, who) {
  const run = task[who === 'gateway' ? 'ours' : 'peer'];
  if (!run) return null;
  let results;
  try {
    results = await run(server);
  } catch (e) {
    return { calls: 0, text: 0, whole: 0, ok: false, why: String(e.message ?? e).slice(0, 120) };
  }
  const text = results.map(texts).join('\n');
  const ok = !results.some((r) => r.isError) && (await task.check(text, who));
  if (process.env.BENCH_AGENT_DEBUG && !ok) console.error(`--- ${who}: ${task.name}\n${text.slice(0, 1500)}`);
  return {
    calls: results.length,
    text: Buffer.byteLength(text),
    whole: results.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)), 0),
    ok,
  };
}

function listFigures(list) {
  const whole = Buffer.byteLength(JSON.stringify(list));
  const facing = list.tools.reduce((n, t) => n + Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema })), 0);
  return { tools: list.tools.length, whole, facing };
}

async function main() {
  const token = await mintAttioToken(MOCK);
  await seedCompanies(token);
  const t = { ...(await truth(token)), token };
  const ours = await ourServer(token);
  const peer = await peerServer(token);
  const out = (s = '') => console.log(s);
  try {
    out('## Task benchmark: the gateway beside attio-mcp 1.6.1, same mock Attio data (bench/agent/run.mjs)');
    for (const s of [ours, peer]) {
      const f = listFigures(await s.list());
      out(`${s.name.padEnd(10)} tools/list: ${f.tools} tools, ${f.whole} B whole (~${Math.round(f.whole / 4)} tokens), ${f.facing} B model-facing (~${Math.round(f.facing / 4)} tokens)`);
    }
    out();
    out(`${'task'.padEnd(40)} ${'gateway: calls  text B  whole B  ok'.padEnd(38)} attio-mcp: calls  text B  whole B  ok`);
    const sums = { gateway: [0, 0, 0], peer: [0, 0, 0] };
    for (const task of tasks(t)) {
      const g = await runTask(task, ours, 'gateway');
      const p = await runTask(task, peer, 'attio-mcp');
      const cell = (r) => (r ? `${String(r.calls).padStart(5)} ${String(r.text).padStart(7)} ${String(r.whole).padStart(8)}  ${r.ok ? 'yes' : 'no'}${r.why ? ` (${r.why})` : ''}` : '    — (no tool for it)');
      out(`${task.name.padEnd(40)} ${cell(g).padEnd(38)} ${cell(p)}`);
      if (g?.ok && p?.ok) {
        for (const [k, r] of [['gateway', g], ['peer', p]]) sums[k] = sums[k].map((v, i) => v + [r.calls, r.text, r.whole][i]);
      }
    }
    out();
    out(`tasks both completed: gateway ${sums.gateway[0]} calls, ${sums.gateway[1]} B text, ${sums.gateway[2]} B whole; attio-mcp ${sums.peer[0]} calls, ${sums.peer[1]} B text, ${sums.peer[2]} B whole (text ratio ${(sums.gateway[1] / Math.max(1, sums.peer[1])).toFixed(2)}×)`);
  } finally {
    await peer.stop();
    await ours.stop();
  }
}

await main();
