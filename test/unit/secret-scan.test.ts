import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'secret-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the repository's secret scanner (the pre-commit hook's and CI's) on one file. */
async function scan(contents: string): Promise<{ failed: boolean; output: string }> {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, contents);
  try {
    const { stdout } = await run(
      'npx',
      ['--no-install', 'secretlint', '--secretlintrc', '.secretlintrc.json', file],
      {
        cwd: root,
      },
    );
    return { failed: false, output: stdout };
  } catch (error) {
    const { stdout = '' } = error as { stdout?: string };
    return { failed: true, output: stdout };
  }
}

// Built at run time so this file itself holds no literal key for the scanner to find.
const tenantKey = ['wta', 'live', 'k7Qm2xPz', 'Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE'].join('_');
const awsSecret = ['aws_secret_access_key = ', 'wJalrXUtnFEMI/K7MDENG', '/bPxRfiCYEXAMPLEKEQ'].join('');

describe('given the secret scanner the pre-commit hook and CI run', () => {
  it('when a file holds a tenant API key, then the scan fails without printing the key', async () => {
    const result = await scan(`export const key = "${tenantKey}";\n`);
    expect(result.failed).toBe(true);
    expect(result.output).not.toContain(tenantKey.slice(-20));
  }, 60_000);

  it('when a file holds an AWS secret access key, then the scan fails', async () => {
    expect((await scan(`${awsSecret}\n`)).failed).toBe(true);
  }, 60_000);

  it('when a file holds only ordinary code, then the scan passes', async () => {
    expect((await scan('export const greeting = "hola";\n')).failed).toBe(false);
  }, 60_000);
});
