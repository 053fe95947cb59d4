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
// next call as well. Durable Object classes keep worker-build's Proxy.
//
// Usage: node scripts/lean-entry.mjs build/index.js [path/to/esbuild]
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [file, esbuild] = process.argv.slice(2);
const source = readFileSync(file, 'utf8');

const proxied = 'var shim_default = new Proxy(Entrypoint, classProxyHooks);';
const needed = [proxied, 'function checkReinitialize()', 'function handleMaybeCritical(e)', 'var Entrypoint = class'];
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
writeFileSync(file, source.replace(proxied, lean));

if (esbuild) {
  const run = spawnSync(esbuild, [file, '--minify', '--format=esm', `--outfile=${file}`, '--allow-overwrite', '--log-level=warning'], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
