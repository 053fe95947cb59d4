// Rewrites worker-build's entry module (build/index.js, built unminified) so the default
// export, the stateless fetch/scheduled entrypoint, is a plain handler object (`{ fetch,
// scheduled }`, a module worker's classic form) instead of a `Proxy` around a
// `WorkerEntrypoint` class, then minifies it with esbuild. Run by scripts/build-worker; worker-build is pinned (0.8.7),
// and the rewrite fails the build rather than guess if the shim it expects is not there.
//
// Why: worker-build wraps every exported class in a Proxy that, on each request, constructs
// a second Proxy per instance and a third per method read. It exists so that a Durable
// Object holding a pointer into a Wasm instance that was re-initialised after a panic gets
// rebuilt. The default entrypoint holds no such pointer, and on the cheap routes that
// wrapping cost more CPU than the route itself. Even without the Proxy, a class-based default
// export makes the runtime construct a `WorkerEntrypoint` for every request (a profile of the
// metadata route showed that constructor among the costliest frames); a plain object is
// called as it is. The handlers read only `this.env` and `this.ctx`, which are passed in.
//
// The recovery behaviour is kept: before each call the shim's `checkReinitialize()` runs (a
// panic marked the instance critical: re-instantiate), and a synchronous throw goes through
// `handleMaybeCritical()`. wasm-bindgen's own guard re-instantiates a trapped instance on the
// next call as well. The Durable Object class becomes a class extending `DurableObject` (see
// below), so it can be called by RPC.
//
// Usage: node scripts/lean-entry.mjs build/index.js [path/to/esbuild]
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [file, esbuild] = process.argv.slice(2);
const source = readFileSync(file, 'utf8');

const proxied = 'var shim_default = new Proxy(Entrypoint, classProxyHooks);';
const objectProxied = 'var Transitions2 = new Proxy(Transitions, classProxyHooks);';
const runtimeImport = 'import { WorkerEntrypoint } from "cloudflare:workers";';
const needed = [proxied, objectProxied, runtimeImport, 'var initState =', 'function checkReinitialize()', 'function handleMaybeCritical(e)', 'var Entrypoint = class'];
const missing = needed.filter((anchor) => !source.includes(anchor));
if (missing.length > 0) {
  console.error(`lean-entry: worker-build's shim changed (not found: ${missing.join('; ')}); update scripts/lean-entry.mjs`);
  process.exit(1);
}

const lean = `// attio-gateway (scripts/lean-entry.mjs): the default export as a plain handler object.
var shim_default = {};
for (const name of Object.getOwnPropertyNames(Entrypoint.prototype)) {
  const handler = Entrypoint.prototype[name];
  if (name === "constructor" || typeof handler !== "function") continue;
  shim_default[name] = function (event, env, ctx) {
    checkReinitialize();
    try {
      return handler.call({ env, ctx }, event);
    } catch (e) {
      handleMaybeCritical(e);
      throw e;
    }
  };
}`;
// The Durable Object class: a class extending the runtime's `DurableObject`, so callers reach
// it by RPC (`stub.run(command)`: a string in, a string out) rather than by `fetch`, which
// builds a Request and a Response and reads both bodies on every call (two calls per tool
// call). It holds the Wasm object and rebuilds it after a re-initialisation, as worker-build's
// Proxy did, and marks a Wasm trap as critical.
const leanObject = `// attio-gateway (scripts/lean-entry.mjs): the Durable Object class, callable by RPC.
var Transitions2 = class extends DurableObject {
  #inner;
  #instanceId;
  constructor(ctx, env) {
    super(ctx, env);
    checkReinitialize();
    this.#inner = new Transitions(ctx, env);
    this.#instanceId = initState.instanceId;
  }
  #current() {
    checkReinitialize();
    if (this.#instanceId !== initState.instanceId) {
      this.#inner = new Transitions(this.ctx, this.env);
      this.#instanceId = initState.instanceId;
    }
    return this.#inner;
  }
  async #call(method, arg) {
    const inner = this.#current();
    try {
      return await inner[method](arg);
    } catch (e) {
      handleMaybeCritical(e);
      throw e;
    }
  }
  run(command) { return this.#call("run", command); }
  fetch(request) { return this.#call("fetch", request); }
  alarm() { return this.#call("alarm"); }
};`;
writeFileSync(
  file,
  source
    .replace(proxied, lean)
    .replace(objectProxied, leanObject)
    .replace(runtimeImport, 'import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";'),
);

if (esbuild) {
  const run = spawnSync(esbuild, [file, '--minify', '--format=esm', `--outfile=${file}`, '--allow-overwrite', '--log-level=warning'], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
