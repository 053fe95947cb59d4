// Runs a worker in a bare `workerd serve` process (no Miniflare, no wrangler): a capnp config is
// generated next to copies of the modules, KV is a tiny in-memory worker speaking the internal
// protocol workerd's KV binding uses, and Durable Objects are workerd's own (in memory). This is
// the closest local stand-in for the production runtime, so the CPU the process spends is the
// worker's own plus workerd's HTTP handling, nothing else.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** The workerd binary that wrangler's npm dependency installed. */
export function workerdBinary() {
  const bin = path.join(root, 'node_modules', '@cloudflare', `workerd-${process.platform}-${os.arch() === 'x64' ? '64' : 'arm64'}`, 'bin', 'workerd');
  if (!fs.existsSync(bin)) throw new Error(`workerd not found at ${bin} (run npm ci)`);
  return bin;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The KV service, speaking the protocol workerd's KV binding uses: GET /<key>, PUT /<key>
// (?expiration_ttl= or ?expiration=, metadata in the CF-KV-Metadata header), DELETE /<key>,
// GET /?prefix=&cursor=&key_count_limit= (list). Metadata is kept as the JSON text workerd sends,
// returned on GET (CF-KV-Metadata, with CF-Expiration) and in list() keys, where workerd expects
// it as a string: @cloudflare/workers-oauth-provider (the peer) stores grants with metadata and
// finds them by listing; the gateway stores none. A request carrying `x-kv-stats: 1` (never sent
// by the binding; see `kvStats` below) answers with the operation counts and what is stored.
const KV_WORKER = `
const data = new Map();
const ops = { get: 0, put: 0, delete: 0, list: 0 };
const live = (e) => e && (e.exp === undefined || e.exp > Date.now());
export default {
  async fetch(req) {
    const url = new URL(req.url);
    if (req.headers.get('x-kv-stats') === '1') {
      let bytes = 0;
      let keys = 0;
      for (const [k, e] of data) {
        if (!live(e)) continue;
        keys++;
        bytes += k.length + e.value.byteLength + (e.meta?.length ?? 0);
      }
      return Response.json({ ops, keys, bytes });
    }
    const raw = url.pathname.slice(1);
    const key = url.searchParams.get('urlencoded') === 'true' ? decodeURIComponent(raw) : raw;
    if (req.method === 'GET' && raw === '') {
      ops.list++;
      const prefix = url.searchParams.get('prefix') ?? '';
      const limit = Number(url.searchParams.get('key_count_limit') ?? url.searchParams.get('limit') ?? 1000);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const names = [...data.keys()].filter((k) => k.startsWith(prefix) && live(data.get(k))).sort();
      const page = names.slice(start, start + limit).map((name) => {
        const e = data.get(name);
        const k = { name };
        if (e.exp !== undefined) k.expiration = Math.floor(e.exp / 1000);
        if (e.meta !== undefined) k.metadata = e.meta;
        return k;
      });
      const done = start + limit >= names.length;
      return Response.json(done ? { keys: page, list_complete: true, cacheStatus: null }
                                : { keys: page, list_complete: false, cursor: String(start + limit), cacheStatus: null });
    }
    if (req.method === 'GET') {
      ops.get++;
      const e = data.get(key);
      if (!live(e)) return new Response('Not Found', { status: 404 });
      if (e.meta === undefined && e.exp === undefined) return new Response(e.value);
      const headers = new Headers();
      if (e.meta !== undefined) headers.set('cf-kv-metadata', e.meta);
      if (e.exp !== undefined) headers.set('cf-expiration', String(Math.floor(e.exp / 1000)));
      return new Response(e.value, { headers });
    }
    if (req.method === 'PUT') {
      ops.put++;
      const ttl = url.searchParams.get('expiration_ttl');
      const at = url.searchParams.get('expiration');
      const exp = ttl ? Date.now() + Number(ttl) * 1000 : at ? Number(at) * 1000 : undefined;
      const meta = req.headers.get('cf-kv-metadata') ?? undefined;
      data.set(key, { value: await req.arrayBuffer(), exp, meta });
      return new Response();
    }
    if (req.method === 'DELETE') {
      ops.delete++;
      data.delete(key);
      return new Response();
    }
    return new Response('method', { status: 405 });
  },
};
`;

const capnpString = (s) => JSON.stringify(String(s));

/**
 * Starts workerd with one worker.
 * - `modules`: [{ name, file?, source?, type: 'esModule' | 'wasm' }] (the first is the entry)
 * - `bindings`: plain text bindings (vars and secrets)
 * - `kv`: KV binding names; `durableObjects`: { BINDING: 'ClassName' }
 * - `inspector`: a port for the V8 inspector (profiling), or undefined
 * - `port`: the port to listen on (a worker that must know its own URL before it starts, like
 *   the peer); a free one by default
 * - `health`: the path polled until it answers 200 (default /health)
 * - `kvStats`: also serve the KV service on a port of its own, for `kvStats()` (counts, size)
 * - `kvOnly`: no worker at all, only the KV service on `port` (the memory baseline)
 * Returns { url, pid, coldMs, stop, stderr, kvStats }.
 */
export async function startWorkerd({
  modules = [], bindings = {}, kv = [], durableObjects = {}, inspector, port, health = '/health', kvStats = false, kvOnly = false,
}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-workerd-'));
  const moduleLines = modules.map((m) => {
    const file = path.join(dir, m.name);
    if (m.file) fs.copyFileSync(m.file, file);
    else fs.writeFileSync(file, m.source);
    return `(name = ${capnpString(m.name)}, ${m.type} = embed ${capnpString(m.name)})`;
  });
  fs.writeFileSync(path.join(dir, 'kv.js'), KV_WORKER);
  const bindingLines = [
    ...Object.entries(bindings).map(([k, v]) => `(name = ${capnpString(k)}, text = ${capnpString(v)})`),
    ...kv.map((k) => `(name = ${capnpString(k)}, kvNamespace = (name = "kv"))`),
    ...Object.entries(durableObjects).map(([k, cls]) => `(name = ${capnpString(k)}, durableObjectNamespace = (className = ${capnpString(cls)}))`),
  ];
  const doLines = Object.values(durableObjects).map((cls) => `(className = ${capnpString(cls)}, uniqueKey = ${capnpString(`bench-${cls}`)}, enableSql = true)`);
  // On disk, as Durable Object storage is in production: an in-memory object loses its
  // storage when workerd evicts it after a few idle seconds (a grant would vanish mid-run).
  fs.mkdirSync(path.join(dir, 'do'));
  port ??= await freePort();
  const statsPort = kvStats ? await freePort() : undefined;
  const kvService = '(name = "kv", worker = (modules = [(name = "kv.js", esModule = embed "kv.js")], compatibilityDate = "2026-05-01"))';
  const sockets = [`(name = "http", address = "127.0.0.1:${port}", http = (), service = ${kvOnly ? '"kv"' : '"main"'})`];
  if (statsPort) sockets.push(`(name = "kvstats", address = "127.0.0.1:${statsPort}", http = (), service = "kv")`);
  const config = kvOnly
    ? `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [${kvService}],
  sockets = [${sockets.join(', ')}],
);
`
    : `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    ${kvService},
    (name = "net", network = (allow = ["public", "private", "local"])),
    (name = "do-disk", disk = (path = ${capnpString(path.join(dir, 'do'))}, writable = true)),
  ],
  sockets = [${sockets.join(', ')}],
);
const main :Workerd.Worker = (
  modules = [${moduleLines.join(', ')}],
  compatibilityDate = "2026-05-01",
  bindings = [${bindingLines.join(', ')}],
  ${doLines.length ? `durableObjectNamespaces = [${doLines.join(', ')}],\n  durableObjectStorage = (localDisk = "do-disk"),` : ''}
  globalOutbound = "net",
);
`;
  fs.writeFileSync(path.join(dir, 'config.capnp'), config);
  const args = ['serve', path.join(dir, 'config.capnp'), '--experimental'];
  if (inspector) args.push(`--inspector-addr=127.0.0.1:${inspector}`);
  const t0 = performance.now();
  const child = spawn(workerdBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let coldMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited: ${stderr}`);
    const r = await fetch(`${url}${kvOnly ? '/' : health}`).catch(() => null);
    await r?.arrayBuffer();
    if (r?.status === 200) {
      coldMs = performance.now() - t0;
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`workerd did not answer: ${stderr}`);
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((res) => (child.exitCode !== null ? res() : child.once('exit', res)));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  /** The KV service's operation counts and live keys/bytes (`kvStats: true` only). */
  const stats = async () => {
    if (!statsPort) return null;
    return (await fetch(`http://127.0.0.1:${statsPort}/`, { headers: { 'x-kv-stats': '1' } })).json();
  };
  return { url, pid: child.pid, coldMs, stop, stderr: () => stderr, kvStats: stats };
}
