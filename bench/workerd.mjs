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

// The KV service: GET /<key>, PUT /<key>?expiration_ttl=, DELETE /<key>, GET /?prefix=&cursor=&limit=.
const KV_WORKER = `
const data = new Map();
const live = (e) => e && (e.exp === undefined || e.exp > Date.now());
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const raw = url.pathname.slice(1);
    const key = url.searchParams.get('urlencoded') === 'true' ? decodeURIComponent(raw) : raw;
    if (req.method === 'GET' && raw === '') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const names = [...data.keys()].filter((k) => k.startsWith(prefix) && live(data.get(k))).sort();
      const page = names.slice(start, start + limit).map((name) => ({ name }));
      const done = start + limit >= names.length;
      return Response.json(done ? { keys: page, list_complete: true, cacheStatus: null }
                                : { keys: page, list_complete: false, cursor: String(start + limit), cacheStatus: null });
    }
    if (req.method === 'GET') {
      const e = data.get(key);
      return live(e) ? new Response(e.value) : new Response('Not Found', { status: 404 });
    }
    if (req.method === 'PUT') {
      const ttl = url.searchParams.get('expiration_ttl');
      data.set(key, { value: await req.arrayBuffer(), exp: ttl ? Date.now() + Number(ttl) * 1000 : undefined });
      return new Response();
    }
    if (req.method === 'DELETE') {
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
 * Returns { url, pid, coldMs, stop }.
 */
export async function startWorkerd({ modules, bindings = {}, kv = [], durableObjects = {}, inspector }) {
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
  const port = await freePort();
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    (name = "kv", worker = (modules = [(name = "kv.js", esModule = embed "kv.js")], compatibilityDate = "2026-05-01")),
    (name = "net", network = (allow = ["public", "private", "local"])),
    (name = "do-disk", disk = (path = ${capnpString(path.join(dir, 'do'))}, writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
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
    const r = await fetch(`${url}/health`).catch(() => null);
    await r?.arrayBuffer();
    if (r?.status === 200) {
      coldMs = performance.now() - t0;
      break;
    }
    if (Date.now() > deadline) throw new Error(`workerd did not answer: ${stderr}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((res) => (child.exitCode !== null ? res() : child.once('exit', res)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url, pid: child.pid, coldMs, stop, stderr: () => stderr };
}
