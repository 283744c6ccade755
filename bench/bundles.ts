/**
 * Each function's Lambda bundle, built exactly as the CDK builds it (infra/cdk/bundle-settings.ts):
 * its size and how long Node 24 takes to import it (the part of a cold start before the first
 * request), median of fresh processes. Run alone with `npx tsx bench/bundles.ts`; `npm run bench`
 * runs it too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundleSettings, functionEntry } from '../infra/cdk/bundle-settings.ts';
import { functions } from '../lib/topology.ts';

const IMPORTS_PER_FUNCTION = 9;

/** Imports the bundle in a fresh Node process and prints how long the import took (ms). */
const IMPORT_PROBE = `const t = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t));`;

async function bundle(entry: string, outdir: string): Promise<string> {
  const outfile = join(outdir, entry, 'index.mjs');
  await build({
    entryPoints: [functionEntry(entry)],
    bundle: true,
    platform: 'node',
    format: bundleSettings.format,
    target: bundleSettings.target,
    minify: bundleSettings.minify,
    sourcemap: bundleSettings.sourceMap,
    keepNames: bundleSettings.keepNames,
    mainFields: [...bundleSettings.mainFields],
    banner: { js: bundleSettings.banner },
    alias: bundleSettings.alias,
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

function importMs(file: string): number {
  const samples: number[] = [];
  for (let i = 0; i < IMPORTS_PER_FUNCTION; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE, file], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' },
    });
    samples.push(Number(out.toString()));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function benchBundles(): Promise<Array<{ fn: string; kb: number; importMs: number }>> {
  const outdir = mkdtempSync(join(tmpdir(), 'bundles-'));
  try {
    const rows = [];
    for (const spec of Object.values(functions)) {
      const file = await bundle(spec.entry, outdir);
      rows.push({ fn: spec.entry, kb: Math.round(statSync(file).size / 1024), importMs: importMs(file) });
    }
    return rows;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('Lambda bundles (as deployed): size and import time (median of fresh processes)');
  for (const row of await benchBundles()) {
    console.log(
      `  ${row.fn.padEnd(12)} ${String(row.kb).padStart(5)} KB   import ${row.importMs.toFixed(1)} ms`,
    );
  }
}
