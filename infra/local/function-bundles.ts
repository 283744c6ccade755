import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, version as esbuildVersion } from 'esbuild';
import { bundleSettings, functionEntry } from '../cdk/bundle-settings.ts';
import { repoRoot } from '../cdk/paths.ts';

/**
 * The functions' Lambda bundles, built as the CDK builds them (infra/cdk/bundle-settings.ts), for the
 * local isolates to load: the code that runs locally is the code that is deployed, and a cold start
 * costs what it costs in Lambda (importing one minified file, ~0.1 s, instead of transpiling the
 * sources). Built once into a cache in the repository (node_modules/.cache) and reused while no input
 * (source file, dependency, setting) changed: esbuild's metafile lists the inputs, whose sizes and
 * modification times are checked on each start (~1,500 files, a few milliseconds).
 */

interface Manifest {
  key: string;
  /** Input path → "size:mtimeMs". */
  inputs: Record<string, string>;
  /** Build directory (under the cache) holding `<entry>.mjs` and its source map. */
  build: string;
}

/**
 * Inside the repository (node_modules/.cache), never a shared temporary folder: the isolates import
 * what is there, so nobody else may be able to put code in it.
 */
const cacheRoot = () => join(repoRoot, 'node_modules', '.cache', 'wa-local-bundles');

function stamp(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function readManifest(root: string, key: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.key !== key) return undefined;
    for (const [input, expected] of Object.entries(manifest.inputs)) {
      if ((stamp(input) ?? 'missing') !== expected) return undefined;
    }
    statSync(join(root, manifest.build));
    return manifest;
  } catch {
    return undefined;
  }
}

/**
 * Removes builds other than the current one (left by earlier sources) once unused for a day: a stack
 * still running on an older build touches it at every start, and a day leaves its cold starts room.
 */
function pruneOldBuilds(root: string, keep: string): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of readdirSync(join(root, 'builds'))) {
    const dir = join(root, 'builds', name);
    if (`builds/${name}` !== keep && statSync(dir).mtimeMs < dayAgo)
      rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Entry name → file URL of its bundle, building what is missing or stale. Concurrent starts (test
 * files side by side) each build into a directory of their own; the manifest is replaced atomically.
 */
export async function functionBundles(entries: readonly string[]): Promise<Record<string, URL>> {
  const root = cacheRoot();
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        bundleSettings,
        entries: [...entries].sort(),
        esbuildVersion,
      }),
    )
    .digest('hex');
  let manifest = readManifest(root, key);
  if (!manifest) {
    const buildDir = `builds/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const outdir = join(root, buildDir);
    mkdirSync(outdir, { recursive: true });
    const result = await build({
      entryPoints: Object.fromEntries(entries.map((entry) => [entry, functionEntry(entry)])),
      outdir,
      outExtension: { '.js': '.mjs' },
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
      absWorkingDir: repoRoot,
      metafile: true,
      logLevel: 'error',
    });
    const inputs: Record<string, string> = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      // Named relative to absWorkingDir (the repository).
      const absolute = resolve(repoRoot, input);
      inputs[absolute] = stamp(absolute) ?? 'missing';
    }
    manifest = { key, inputs, build: buildDir };
    const temporary = join(root, `manifest.${process.pid}.${randomBytes(4).toString('hex')}.json`);
    writeFileSync(temporary, JSON.stringify(manifest));
    renameSync(temporary, join(root, 'manifest.json'));
    try {
      pruneOldBuilds(root, buildDir);
    } catch {
      // Another start is pruning too.
    }
  }
  const dir = join(root, manifest.build);
  // In use again: keeps this build from being pruned while a stack runs on it.
  const now = new Date();
  utimesSync(dir, now, now);
  return Object.fromEntries(entries.map((entry) => [entry, pathToFileURL(join(dir, `${entry}.mjs`))]));
}
