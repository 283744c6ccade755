import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FunctionSpec, functions } from '../../lib/topology.ts';
import { logicalId, props, synthApp } from './support/synth.ts';

const topologyFunctions = Object.entries(functions as Record<string, FunctionSpec>);

/** The one test that runs esbuild for real, as `npm run synth` does. */
describe('function bundles (real esbuild)', () => {
  let assetDir: (name: string) => string;

  beforeAll(() => {
    // Given the app synthesized with bundling on
    const app = synthApp({ bundle: true, context: { stage: 'prod', sesIdentity: 'example.com' } });
    const assembly = app.app.synth();
    assetDir = (name) => {
      const fn = app.stateless.stack.functions[name]!.fn;
      const code = props(app.stateless.template.toJSON().Resources[logicalId(app.stateless.stack, fn)])
        .Code as {
        S3Key: string;
      };
      return join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    };
  }, 120_000);

  it.each(topologyFunctions)(
    'bundles %s as a minified ESM file with a source map and a require shim',
    (name) => {
      const file = join(assetDir(name), 'index.mjs');
      const code = readFileSync(file, 'utf8');
      expect(
        code.startsWith(
          "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        ),
      ).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(existsSync(join(assetDir(name), 'index.mjs.map'))).toBe(true);
      // The SDK is bundled (pinned versions), not left to the runtime's copy.
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(statSync(file).size).toBeLessThan(5 * 1024 * 1024);
    },
  );

  it('keeps the webhook bundle to what it uses: under 500 KB, no OpenAI, S3, KMS or credential chain', () => {
    const file = join(assetDir('webhook'), 'index.mjs');
    const code = readFileSync(file, 'utf8');
    expect(statSync(file).size).toBeLessThan(500 * 1024);
    // keepNames leaves each class's name in the bundle: their absence shows the module is not in it.
    for (const absent of [
      '"S3Client"',
      '"KMSClient"',
      '"OpenAI"',
      'api.openai.com',
      '"SSOClient"',
      '"STSClient"',
    ]) {
      expect(code, absent).not.toContain(absent);
    }
    for (const present of ['"DynamoDBClient"', '"SQSClient"', '"SecretsManagerClient"']) {
      expect(code, present).toContain(present);
    }
  });

  it.each(topologyFunctions)('loads the %s bundle on Node 24 and finds its handler', async (name) => {
    const module = (await import(pathToFileURL(join(assetDir(name), 'index.mjs')).href)) as {
      handler?: unknown;
    };
    expect(typeof module.handler).toBe('function');
  });
});
