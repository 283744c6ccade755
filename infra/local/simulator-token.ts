import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { secretsMatch } from '../../lib/secrets/constant-time.ts';

/**
 * The per-run token of the chat simulator's API. That API signs webhooks with the App Secret and
 * shows tenants and conversations, so only two callers get the token: the chat page (embedded in the
 * page it serves, which no other site can read) and `npm run simulate` (from a file in DATA_DIR that
 * only the developer can read). A new token each start: an old copy opens nothing.
 */

export const SIMULATOR_TOKEN_HEADER = 'x-simulator-token';
const TOKEN_FILE = 'simulator-token';

export function createSimulatorToken(): string {
  return randomBytes(32).toString('base64url');
}

export function presentsSimulatorToken(req: IncomingMessage, token: string): boolean {
  const given = req.headers[SIMULATOR_TOKEN_HEADER];
  return typeof given === 'string' && secretsMatch(given, token);
}

export function simulatorTokenPath(dataDir: string): string {
  return join(dataDir, TOKEN_FILE);
}

/** Writes the token for `npm run simulate` (mode 0600, never through an existing file); returns its remover. */
export function writeSimulatorToken(dataDir: string, token: string): () => void {
  const file = simulatorTokenPath(dataDir);
  rmSync(file, { force: true });
  // 'wx' fails rather than follow a file or link someone put there between the two calls.
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  // Removed on stop unless another run has written its own since.
  return () => {
    if (readSimulatorToken(dataDir) === token) rmSync(file, { force: true });
  };
}

/** The token of the stack running on `dataDir`, or undefined when none is running there. */
export function readSimulatorToken(dataDir: string): string | undefined {
  try {
    return readFileSync(simulatorTokenPath(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
