import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { uniqueName } from '../support/emulators.ts';

/**
 * The local stack on a shared network: nothing it starts (DynamoDB Local, fauxqs, the SES emulator,
 * its HTTP server) may listen beyond loopback, since none of them asks for credentials. Reads the
 * kernel's socket tables (/proc, Linux only) for the sockets of this process and its children; no
 * traffic goes anywhere. Nor may they answer a web page through DNS rebinding. And with a real Graph server configured, it serves no simulator that signs
 * webhooks with the (then real) App Secret.
 */

interface ListeningSocket {
  address: string;
  port: number;
}

/** This process and every process below it (the Java child of DynamoDB Local, the watchdogs). */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may contain spaces: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process exited while we looked.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return inodes;
}

/** /proc/net/tcp writes each 32-bit word of an address in host (little-endian) byte order. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  const v4Mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4Mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** TCP sockets in LISTEN state that belong to the given processes. */
function listeningSocketsOf(pids: number[]): ListeningSocket[] {
  const inodes = socketInodes(pids);
  const sockets: ListeningSocket[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout, inode
      const [, local, , state, , , , , , inode] = fields;
      if (state !== '0A' || !inode || !inodes.has(inode) || !local) continue;
      const [address, port] = local.split(':');
      sockets.push({ address: decodeAddress(address!), port: Number.parseInt(port!, 16) });
    }
  }
  return sockets;
}

const LOOPBACK = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];
const portOf = (url: string) => Number(new URL(url).port);

describe.runIf(process.platform === 'linux')('the local stack on a shared network', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    // Its own emulators (not the shared ones of global-setup), so their sockets are this process's.
    stack = await startLocalStack({
      port: 0,
      namePrefix: uniqueName('loopback'),
      seedDemo: false,
      // A real (non-local) Graph server: `.invalid` never resolves, so nothing can reach it.
      env: { OPERATOR_API_KEY: 'loopback-operator-key', GRAPH_API_BASE_URL: 'https://graph.invalid' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('decodes the kernel socket table addresses', () => {
    expect(decodeAddress('0100007F')).toBe('127.0.0.1');
    expect(decodeAddress('00000000')).toBe('0.0.0.0');
    expect(decodeAddress('00000000000000000000000001000000')).toBe('::1');
    expect(decodeAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(decodeAddress('00000000000000000000000000000000')).toBe('::');
  });

  it('listens on loopback only: DynamoDB Local, fauxqs, the SES emulator and the HTTP server', () => {
    const servers: Record<number, string> = {
      [portOf(stack.env.AWS_ENDPOINT_URL_DYNAMODB!)]: 'DynamoDB Local',
      [portOf(stack.env.AWS_ENDPOINT_URL_SQS!)]: 'fauxqs',
      [portOf(stack.sesUrl!)]: 'aws-ses-v2-local',
      [portOf(stack.url)]: 'HTTP server',
    };
    const sockets = listeningSocketsOf(processTree(process.pid)).map((socket) => ({
      ...socket,
      server: servers[socket.port] ?? 'unknown',
    }));
    // Not vacuous: every server of the stack is among the sockets found.
    expect(sockets.map((socket) => socket.server)).toEqual(expect.arrayContaining(Object.values(servers)));
    const exposed = sockets.filter((socket) => !LOOPBACK.includes(socket.address));
    expect(exposed).toEqual([]);
  });

  it('answers loopback Host names only on every emulator, so a DNS-rebinding page cannot read them', async () => {
    const statusFor = (endpoint: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(endpoint);
        httpGet({ host: hostname, port, path: '/', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
    const endpoints = [stack.env.AWS_ENDPOINT_URL_DYNAMODB!, stack.env.AWS_ENDPOINT_URL_SQS!, stack.sesUrl!];
    for (const endpoint of endpoints) {
      const { port } = new URL(endpoint);
      expect(await statusFor(endpoint, `evil.example:${port}`), endpoint).toBe(403);
      expect(await statusFor(endpoint, `localhost:${port}`), endpoint).not.toBe(403);
      expect(await statusFor(endpoint, `127.0.0.1:${port}`), endpoint).not.toBe(403);
    }
  });

  it('serves no chat simulator (nor its signing API) when Graph is a real server', async () => {
    expect(stack.simulator).toBeUndefined();
    for (const path of ['/simulator', '/simulator/api/businesses', '/graph/v26.0/1/messages']) {
      expect((await fetch(`${stack.url}${path}`)).status, path).toBe(404);
    }
    const signing = await fetch(`${stack.url}/simulator/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number_id: '1', from: '34600111222', text: 'hola' }),
    });
    expect(signing.status).toBe(404);
  });
});
