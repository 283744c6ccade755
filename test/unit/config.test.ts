import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';

describe('given the configuration a function parses at its cold start', () => {
  it('when a variable the function requires is missing, then the error names it', () => {
    expect(() => parseConfig({ TABLE_NAME: 't' }, ['TABLE_NAME', 'INBOUND_QUEUE_URL'])).toThrow(
      'missing required configuration: INBOUND_QUEUE_URL',
    );
    expect(() => parseConfig({}, ['TABLE_NAME', 'PROVISION_QUEUE_URL'])).toThrow(
      'missing required configuration: TABLE_NAME, PROVISION_QUEUE_URL',
    );
  });

  it('when a value is malformed, then the error names the variable', () => {
    expect(() => parseConfig({ GRAPH_API_VERSION: '26' })).toThrow(/GRAPH_API_VERSION/);
    expect(() => parseConfig({ CLAIM_LEASE_MS: 'soon' })).toThrow(/CLAIM_LEASE_MS/);
  });

  it('when everything required is there, then defaults fill the rest', () => {
    const config = parseConfig({ TABLE_NAME: 't', INBOUND_QUEUE_URL: 'http://q' }, [
      'TABLE_NAME',
      'INBOUND_QUEUE_URL',
    ]);
    expect(config).toMatchObject({
      TABLE_NAME: 't',
      INBOUND_QUEUE_URL: 'http://q',
      GRAPH_API_VERSION: 'v26.0',
      AWS_REGION: 'us-east-1',
      RETENTION_HOURS: 24,
    });
  });
});

describe('given the runtime code', () => {
  it('when any module of functions/ or lib/ reads process.env, then it is lib/config.ts', async () => {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(root, 'functions'));
    walk(join(root, 'lib'));
    const readers = files.filter((file) =>
      /process\.env/.test(readFileSync(file, 'utf8').replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '')),
    );
    expect(readers.map((file) => file.slice(root.length + 1))).toEqual(['lib/config.ts']);
  });

  it('when any module of functions/ or lib/ imports from infra/, then this fails', async () => {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && /from '(\.\.\/)+infra\//.test(readFileSync(path, 'utf8')))
          offenders.push(path);
      }
    };
    walk(join(root, 'functions'));
    walk(join(root, 'lib'));
    expect(offenders).toEqual([]);
  });
});
