// Bundles the peer (bench/peer/worker.js) into one ES module with the esbuild that wrangler
// installed at the repository root, with the options wrangler itself uses for a Worker: ESM,
// platform neutral, the workerd/worker/browser export conditions, browser/module/main fields,
// cloudflare:* left to the runtime, not minified (wrangler's default). ORIGIN, the URL the peer
// will serve on, is baked in (see worker.js).
//
//   node bench/peer/build.mjs [ORIGIN] [--minify]   prints the bundle's path

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');

export function esbuildBinary() {
  const bin = path.join(root, 'node_modules/.bin/esbuild');
  if (!fs.existsSync(bin)) throw new Error(`esbuild not found at ${bin} (npm ci at the repository root)`);
  return bin;
}

/** Bundles the peer for `origin`; returns the output file (bench/peer/dist/). */
export function buildPeer(origin, { minify = false } = {}) {
  if (!fs.existsSync(path.join(here, 'node_modules/@cloudflare/workers-oauth-provider'))) {
    throw new Error('bench/peer/node_modules missing: run `npm ci` in bench/peer');
  }
  const outfile = path.join(here, 'dist', minify ? 'peer.min.js' : 'peer.js');
  const args = [
    path.join(here, 'worker.js'),
    '--bundle',
    '--format=esm',
    '--platform=neutral',
    '--target=es2022',
    '--conditions=workerd,worker,browser',
    '--main-fields=browser,module,main',
    '--external:cloudflare:*',
    `--define:ORIGIN=${JSON.stringify(origin)}`,
    `--outfile=${outfile}`,
    '--log-level=warning',
  ];
  if (minify) args.push('--minify');
  const r = spawnSync(esbuildBinary(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild failed: ${r.stderr || r.error}`);
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const origin = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'http://127.0.0.1:8787';
  console.log(buildPeer(origin, { minify: process.argv.includes('--minify') }));
}
