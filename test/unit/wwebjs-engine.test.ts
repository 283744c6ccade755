import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type EngineEvents, type EngineMessage, EngineNotReadyError } from '../../lib/qr/session-engine.ts';
import { WwebjsEngine, type WwebjsEngineOptions } from '../../lib/qr/wwebjs-engine.ts';
import { chatIdFor, chatKindOf, disconnectReasonOf, engineMessageOf } from '../../lib/qr/wwebjs-mapping.ts';
import { profileDirFor, restoreProfile, zipProfile } from '../../lib/qr/wwebjs-profile-snapshot.ts';
import { MemorySnapshotStore } from '../fakes/memory-snapshot-store.ts';
import { FakeClient, FakeMessage } from '../fakes/wwebjs-fake-client.ts';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'wwebjs-unit-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function harness(options: Partial<WwebjsEngineOptions> = {}, tenantId = 'tenant-a') {
  const snapshots = new MemorySnapshotStore();
  const calls = snapshots.calls;
  const clients: FakeClient[] = [];
  const engine = new WwebjsEngine(tenantId, {
    snapshots,
    chromiumPath: '/usr/bin/chromium',
    dataDir,
    now: () => new Date('2026-01-01T00:00:00Z'),
    createClient: async (settings) => {
      const client = new FakeClient(settings, calls);
      clients.push(client);
      return client;
    },
    ...options,
  });
  const seen: { event: string; payload: unknown }[] = [];
  for (const event of ['qr', 'linked', 'ready', 'message', 'disconnected'] as const) {
    engine.on(event, (payload) => seen.push({ event, payload }));
  }
  const client = () => clients.at(-1) as FakeClient;
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { engine, snapshots, calls, clients, client, seen, settle };
}

async function connected(h: ReturnType<typeof harness>, phone = '34600111222') {
  await h.engine.start();
  h.client().info = { wid: { user: phone } };
  h.client().emit('authenticated');
  h.client().emit('ready');
}

describe('whatsapp-web.js mapping', () => {
  it('maps chat ids to their kind', () => {
    expect(chatKindOf('34600111222@c.us')).toBe('direct');
    expect(chatKindOf('120363040000000000@g.us')).toBe('group');
    expect(chatKindOf('status@broadcast')).toBe('status');
    expect(chatKindOf('123456789@lid')).toBe('direct');
  });

  it('maps disconnect reasons: unlinked is logout, opened elsewhere is conflict, the rest transient', () => {
    expect(disconnectReasonOf('LOGOUT')).toBe('logout');
    expect(disconnectReasonOf('UNPAIRED')).toBe('logout');
    expect(disconnectReasonOf('UNPAIRED_IDLE')).toBe('logout');
    expect(disconnectReasonOf('CONFLICT')).toBe('conflict');
    expect(disconnectReasonOf('TIMEOUT')).toBe('transient');
    expect(disconnectReasonOf('Max qrcode retries reached')).toBe('transient');
    expect(disconnectReasonOf(undefined)).toBe('transient');
  });

  it('maps a customer message, an own message, a group message and a status', () => {
    const base = { body: 'hola', timestamp: 1_767_225_600 };
    expect(
      engineMessageOf(
        { ...base, id: { _serialized: 'false_1@c.us_A' }, from: '1@c.us', to: '9@c.us', fromMe: false },
        '9',
      ),
    ).toEqual({
      id: 'false_1@c.us_A',
      chat: '1',
      from: '1',
      type: 'text',
      text: 'hola',
      chatKind: 'direct',
      fromMe: false,
      at: new Date('2026-01-01T00:00:00Z'),
    });
    const own = engineMessageOf(
      { ...base, id: { _serialized: 'true_1@c.us_B' }, from: '9@c.us', to: '1@c.us', fromMe: true },
      '9',
    );
    expect(own).toMatchObject({ chat: '1', from: '9', fromMe: true, chatKind: 'direct' });
    const group = engineMessageOf(
      { ...base, id: { _serialized: 'g' }, from: '77@g.us', to: '9@c.us', author: '5@c.us', fromMe: false },
      '9',
    );
    expect(group).toMatchObject({ chat: '77@g.us', from: '5', chatKind: 'group' });
    const status = engineMessageOf(
      {
        ...base,
        id: { _serialized: 's' },
        from: 'status@broadcast',
        to: '9@c.us',
        author: '5@c.us',
        fromMe: false,
      },
      '9',
    );
    expect(status).toMatchObject({ chatKind: 'status', from: '5' });
  });

  it('addresses a bare number as a user chat and keeps full ids', () => {
    expect(chatIdFor('34600111222')).toBe('34600111222@c.us');
    expect(chatIdFor('+34600111222')).toBe('34600111222@c.us');
    expect(chatIdFor('77@g.us')).toBe('77@g.us');
  });

  it('keeps every tenant profile inside the data directory, one directory each', () => {
    const root = path.resolve(dataDir);
    const sneaky = profileDirFor(dataDir, '../../etc');
    expect(path.dirname(sneaky)).toBe(root);
    expect(profileDirFor(dataDir, 'tenant-a')).toBe(path.join(root, 't_tenant-a'));
    expect(profileDirFor(dataDir, 'a/b')).not.toBe(profileDirFor(dataDir, 'a_b'));
  });
});

describe('WwebjsEngine with a fake client', () => {
  it('shows the first QR and its refreshes, then ends with qr_expired without saving', async () => {
    const h = harness({ qrMaxRefreshes: 2 });
    await h.engine.start();
    for (const qr of ['q1', 'q2', 'q3', 'q4', 'q5']) h.client().emit('qr', qr);
    await h.settle();
    expect(h.seen.filter((e) => e.event === 'qr').map((e) => (e.payload as EngineEvents['qr']).qr)).toEqual([
      'q1',
      'q2',
      'q3',
    ]);
    expect(h.seen.find((e) => e.event === 'qr')?.payload).toMatchObject({
      expiresAt: new Date('2026-01-01T00:00:20Z'),
    });
    expect(h.seen.filter((e) => e.event === 'disconnected')).toEqual([
      { event: 'disconnected', payload: expect.objectContaining({ reason: 'qr_expired' }) },
    ]);
    expect(h.engine.state()).toBe('disconnected');
    expect(h.calls).toEqual(['load tenant-a', 'initialize', 'destroy']);
  });

  it('counts the QRs of each start afresh', async () => {
    const h = harness({ qrMaxRefreshes: 0 });
    await h.engine.start();
    h.client().emit('qr', 'a');
    h.client().emit('qr', 'b');
    await h.settle();
    await h.engine.start();
    h.client().emit('qr', 'c');
    expect(h.seen.filter((e) => e.event === 'qr')).toHaveLength(2);
    expect(h.engine.state()).toBe('qr');
  });

  it('links, becomes ready as the linked number, hears messages and sends only while connected', async () => {
    const h = harness();
    await h.engine.start();
    await expect(h.engine.send('1', 'x')).rejects.toBeInstanceOf(EngineNotReadyError);
    h.client().info = { wid: { user: '34600111222' } };
    h.client().emit('authenticated');
    expect(h.engine.state()).toBe('linking');
    h.client().emit('ready');
    expect(h.engine.state()).toBe('connected');
    h.client().emit('message_create', {
      id: { _serialized: 'true_1@c.us_M' },
      from: '34600111222@c.us',
      to: '1@c.us',
      body: 'typed on the phone',
      fromMe: true,
      timestamp: 1,
    });
    expect(h.seen.map((e) => e.event)).toEqual(['linked', 'ready', 'message']);
    expect(h.seen[1]?.payload).toEqual({ phoneNumber: '34600111222' });
    expect(h.seen[2]?.payload).toMatchObject({ chat: '1', from: '34600111222', fromMe: true });
    expect(await h.engine.send('1', 'hi')).toEqual({ messageId: 'true_1@c.us_SENT1' });
    expect(h.calls).toContain('send 1@c.us hi');
  });

  it('hears a voice note with its media (downloaded on demand) and no notice at all', async () => {
    const h = harness();
    await connected(h);
    h.client().emit('message_create', new FakeMessage({ type: 'e2e_notification', body: '' }));
    const voice = new FakeMessage({
      type: 'ptt',
      hasMedia: true,
      data: { mimetype: 'audio/ogg; codecs=opus', size: 4 },
      download: { mimetype: 'audio/ogg; codecs=opus', data: Buffer.from('opus').toString('base64') },
    });
    h.client().emit('message_create', voice);
    const heard = h.seen.filter((e) => e.event === 'message').map((e) => e.payload as EngineMessage);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({
      type: 'audio',
      media: { voice: true, mimeType: 'audio/ogg; codecs=opus' },
    });
    expect(voice.downloads).toBe(0);
    expect((await heard[0]!.media!.download()).toString()).toBe('opus');
  });

  it('given a conflict, it ends with conflict and keeps the saved session', async () => {
    const h = harness();
    h.snapshots.snapshots.set('tenant-a', (await zipProfileWith('kept'))!);
    await connected(h);
    h.client().emit('disconnected', 'CONFLICT');
    await h.settle();
    expect(h.seen.at(-1)).toEqual({
      event: 'disconnected',
      payload: { reason: 'conflict', detail: 'CONFLICT' },
    });
    expect(h.snapshots.snapshots.has('tenant-a')).toBe(true);
    expect(h.calls).not.toContain('delete tenant-a');
    await expect(h.engine.send('1', 'x')).rejects.toBeInstanceOf(EngineNotReadyError);
  });

  it('given a logout from the phone or a failed restore, it ends with logout and deletes the saved session', async () => {
    for (const [event, arg] of [
      ['disconnected', 'LOGOUT'],
      ['auth_failure', 'restore failed'],
    ] as const) {
      const h = harness();
      h.snapshots.snapshots.set('tenant-a', (await zipProfileWith('linked'))!);
      await connected(h);
      h.client().emit(event, arg);
      await vi.waitFor(() => expect(h.seen.at(-1)?.event).toBe('disconnected'));
      expect(h.seen.at(-1)?.payload).toMatchObject({ reason: 'logout' });
      expect(h.snapshots.snapshots.has('tenant-a')).toBe(false);
      expect(h.calls.indexOf('destroy')).toBeLessThan(h.calls.indexOf('delete tenant-a'));
    }
  });

  it('given the browser is lost, it ends transient once; after a stop the loss is not reported', async () => {
    const h = harness();
    await connected(h);
    h.client().browser.emit('disconnected');
    h.client().page.emit('error', new Error('crash'));
    await h.settle();
    expect(h.seen.filter((e) => e.event === 'disconnected')).toEqual([
      { event: 'disconnected', payload: { reason: 'transient', detail: 'the browser disconnected' } },
    ]);
    await h.engine.start();
    await h.engine.stop({ save: false });
    h.client().browser.emit('disconnected');
    await h.settle();
    expect(h.seen.filter((e) => e.event === 'disconnected')).toHaveLength(1);
    expect(h.engine.state()).toBe('stopped');
  });

  it('stop with save zips the profile into the store before destroying; a new start restores it', async () => {
    const h = harness({}, 'tenant-save');
    await connected(h);
    const leveldb = path.join(
      h.engine.profileDir,
      'Default',
      'IndexedDB',
      'https_web.whatsapp.com_0.indexeddb.leveldb',
    );
    await mkdir(leveldb, { recursive: true });
    await writeFile(path.join(leveldb, '000003.log'), 'session-keys');
    await mkdir(path.join(h.engine.profileDir, 'Default', 'Cache'), { recursive: true });
    await writeFile(path.join(h.engine.profileDir, 'Default', 'Cache', 'big'), 'not kept');
    await h.engine.stop({ save: true });
    expect(h.calls.slice(-2)).toEqual(['save tenant-save', 'destroy']);
    expect(h.engine.state()).toBe('stopped');

    await rm(h.engine.profileDir, { recursive: true, force: true });
    await h.engine.start();
    expect(await readFile(path.join(leveldb, '000003.log'), 'utf8')).toBe('session-keys');
    expect(
      await readFile(path.join(h.engine.profileDir, 'Default', 'Cache', 'big')).catch(() => 'gone'),
    ).toBe('gone');
  });

  it('stop without save, or a save of a session that never connected, writes nothing', async () => {
    const h = harness();
    await connected(h);
    await h.engine.stop({ save: false });
    const q = harness();
    await q.engine.start();
    q.client().emit('qr', 'q');
    await q.engine.stop({ save: true });
    expect(q.engine.state()).toBe('stopped');
    expect([...h.calls, ...q.calls].filter((c) => c.startsWith('save'))).toEqual([]);
  });

  it('logout unlinks through the client, deletes the saved session and ends with logout', async () => {
    const h = harness();
    h.snapshots.snapshots.set('tenant-a', (await zipProfileWith('linked'))!);
    await connected(h);
    await h.engine.logout();
    expect(h.calls.slice(-3)).toEqual(['logout', 'destroy', 'delete tenant-a']);
    expect(h.seen.at(-1)).toEqual({ event: 'disconnected', payload: { reason: 'logout' } });
    expect(h.engine.state()).toBe('disconnected');
  });

  it('a snapshot that cannot be read fails the start instead of showing a new QR', async () => {
    const h = harness();
    h.snapshots.load = async () => {
      throw new Error('S3 is down');
    };
    await expect(h.engine.start()).rejects.toThrow('S3 is down');
    expect(h.engine.state()).toBe('stopped');
    expect(h.clients).toHaveLength(0);
  });
});

async function zipProfileWith(content: string): Promise<Uint8Array | undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wwebjs-zip-'));
  await mkdir(path.join(dir, 'Default', 'Local Storage'), { recursive: true });
  await writeFile(path.join(dir, 'Default', 'Local Storage', 'x'), content);
  const zip = await zipProfile(dir);
  await restoreProfile(dir, undefined);
  await rm(dir, { recursive: true, force: true });
  return zip;
}
