import { describe, expect, it } from 'vitest';
import {
  type EngineEvents,
  EngineMediaUnavailableError,
  type EngineMessage,
  EngineNotReadyError,
  type WhatsAppSessionEngine,
} from '../../lib/qr/session-engine.ts';
import { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';

type Recorded = { [E in keyof EngineEvents]: [E, EngineEvents[E]] }[keyof EngineEvents];

/** Every event an engine emits, in order. */
function record(engine: WhatsAppSessionEngine): Recorded[] {
  const seen: Recorded[] = [];
  engine.on('qr', (p) => seen.push(['qr', p]));
  engine.on('linked', (p) => seen.push(['linked', p]));
  engine.on('ready', (p) => seen.push(['ready', p]));
  engine.on('message', (p) => seen.push(['message', p]));
  engine.on('disconnected', (p) => seen.push(['disconnected', p]));
  return seen;
}

const names = (events: Recorded[]) => events.map(([name]) => name);

function network(start = new Date('2026-12-01T10:00:00Z')) {
  let now = start;
  const sim = new SimulatedWhatsApp({ qrLifetimeMs: 20_000, now: () => now });
  return { sim, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

async function linkedSession(sim: SimulatedWhatsApp, tenantId: string, phone: string) {
  const engine = sim.engineFor(tenantId);
  const events = record(engine);
  await engine.start();
  expect(sim.scan(sim.currentQr(tenantId)!.qr, phone)).toBe('linked');
  return { engine, events };
}

describe('given a tenant without a saved session', () => {
  it('when the engine starts, then it shows a QR that expires after the QR lifetime', async () => {
    const { sim } = network();
    const engine = sim.engineFor('t1');
    const events = record(engine);
    await engine.start();

    expect(engine.state()).toBe('qr');
    expect(events).toEqual([['qr', { qr: expect.any(String), expiresAt: new Date('2026-12-01T10:00:20Z') }]]);
    expect(sim.currentQr('t1')).toEqual(events[0]![1]);
  });

  it('when the phone scans the QR, then the session is linked, then ready as that number', async () => {
    const { sim } = network();
    const { engine, events } = await linkedSession(sim, 't1', '34600000001');

    expect(names(events)).toEqual(['qr', 'linked', 'ready']);
    expect(events[2]).toEqual(['ready', { phoneNumber: '34600000001' }]);
    expect(engine.state()).toBe('connected');
    expect(sim.currentQr('t1')).toBeUndefined();
  });

  it('when the QR is refreshed, then the old QR is refused and the new one links', async () => {
    const { sim } = network();
    const engine = sim.engineFor('t1');
    await engine.start();
    const old = sim.currentQr('t1')!.qr;
    const fresh = sim.refreshQr('t1').qr;

    expect(fresh).not.toBe(old);
    expect(sim.scan(old, '34600000001')).toBe('unknown_qr');
    expect(sim.scan(fresh, '34600000001')).toBe('linked');
  });

  it('when the QR is scanned after its expiry, then it is refused and the session still shows it', async () => {
    const { sim, advance } = network();
    const engine = sim.engineFor('t1');
    await engine.start();
    advance(20_000);

    expect(sim.scan(sim.currentQr('t1')!.qr, '34600000001')).toBe('expired_qr');
    expect(engine.state()).toBe('qr');
  });

  it('when nobody scans after the refreshes, then it disconnects with qr_expired', async () => {
    const { sim } = network();
    const engine = sim.engineFor('t1');
    const events = record(engine);
    await engine.start();
    sim.disconnect('t1', 'qr_expired');

    expect(events.at(-1)).toEqual(['disconnected', { reason: 'qr_expired' }]);
    expect(engine.state()).toBe('disconnected');
    expect(sim.currentQr('t1')).toBeUndefined();
  });

  it('when a number already linked to another tenant scans, then it is refused', async () => {
    const { sim } = network();
    await linkedSession(sim, 't1', '34600000001');
    await sim.engineFor('t2').start();

    expect(sim.scan(sim.currentQr('t2')!.qr, '34600000001')).toBe('number_in_use');
  });
});

describe('given a connected session', () => {
  it('when a customer writes, then the engine emits the message', async () => {
    const { sim } = network();
    const { events } = await linkedSession(sim, 't1', '34600000001');
    const delivered = sim.receive('34600000001', '34699999999', 'hola', { id: 'm1' });

    expect(events.at(-1)).toEqual(['message', delivered]);
    expect(delivered).toMatchObject({ id: 'm1', chat: '34699999999', from: '34699999999', text: 'hola' });
    expect(delivered).toMatchObject({ chatKind: 'direct', fromMe: false });
  });

  it('when the owner types on the phone, then the message is marked as the account’s own', async () => {
    const { sim } = network();
    const { events } = await linkedSession(sim, 't1', '34600000001');
    sim.typeOnPhone('34600000001', '34699999999', 'ya te atiendo yo');

    expect(events.at(-1)?.[1]).toMatchObject({ chat: '34699999999', fromMe: true });
  });

  it('when it sends, then the phone lists what was sent, in order', async () => {
    const { sim } = network();
    const { engine } = await linkedSession(sim, 't1', '34600000001');
    const first = await engine.send('34699999999', 'uno');
    await engine.send('34688888888', 'dos');

    expect(first.messageId).toEqual(expect.any(String));
    expect(sim.sent('34600000001')).toEqual([
      { to: '34699999999', text: 'uno', at: expect.any(Date) },
      { to: '34688888888', text: 'dos', at: expect.any(Date) },
    ]);
  });

  it.each(['conflict', 'transient'] as const)(
    'when it disconnects with %s, then sends are refused and the saved session is kept',
    async (reason) => {
      const { sim } = network();
      const { engine, events } = await linkedSession(sim, 't1', '34600000001');
      await engine.stop({ save: true });
      await engine.start();
      sim.disconnect('t1', reason, 'detail');

      expect(events.at(-1)).toEqual(['disconnected', { reason, detail: 'detail' }]);
      await expect(engine.send('34699999999', 'x')).rejects.toBeInstanceOf(EngineNotReadyError);
      expect(sim.sessions.load('t1')?.phoneNumber).toBe('34600000001');
    },
  );

  it('when the phone logs out, then it disconnects with logout and the saved session is gone', async () => {
    const { sim } = network();
    const { engine, events } = await linkedSession(sim, 't1', '34600000001');
    await engine.stop({ save: true });
    await engine.start();
    sim.logoutFromPhone('34600000001');

    expect(events.at(-1)).toEqual(['disconnected', { reason: 'logout' }]);
    expect(sim.sessions.load('t1')).toBeUndefined();
    expect(() => sim.receive('34600000001', '34699999999', 'hola')).toThrow();
  });

  it('when we log out, then it disconnects with logout and the phone no longer lists the link', async () => {
    const { sim } = network();
    const { engine, events } = await linkedSession(sim, 't1', '34600000001');
    await engine.logout();

    expect(events.at(-1)).toEqual(['disconnected', { reason: 'logout' }]);
    expect(sim.isLinked('t1', '34600000001')).toBe(false);
  });

  it('when a second engine opens the same tenant, then the first ends with conflict', async () => {
    const { sim } = network();
    const { engine: first, events } = await linkedSession(sim, 't1', '34600000001');
    await first.stop({ save: true });
    await first.start();
    const second = sim.engineFor('t1');
    await second.start();

    expect(events.at(-1)?.[1]).toMatchObject({ reason: 'conflict' });
    expect(second.state()).toBe('connected');
  });
});

describe('given a session stopped and started again (a task restart)', () => {
  it('when it was stopped with saving, then it comes back linked and ready without a QR', async () => {
    const { sim } = network();
    const { engine } = await linkedSession(sim, 't1', '34600000001');
    await engine.stop({ save: true });
    const restarted = sim.engineFor('t1');
    const events = record(restarted);
    await restarted.start();

    expect(names(events)).toEqual(['linked', 'ready']);
    expect(events[1]).toEqual(['ready', { phoneNumber: '34600000001' }]);
    expect(restarted.state()).toBe('connected');
  });

  it('when it was stopped without saving, then it needs a new QR', async () => {
    const { sim } = network();
    const { engine } = await linkedSession(sim, 't1', '34600000001');
    await engine.stop({ save: false });
    const restarted = sim.engineFor('t1');
    const events = record(restarted);
    await restarted.start();

    expect(names(events)).toEqual(['qr']);
    expect(engine.state()).toBe('stopped');
  });

  it('when the phone unlinked it while stopped, then the restore ends with logout and deletes the save', async () => {
    const { sim } = network();
    const { engine } = await linkedSession(sim, 't1', '34600000001');
    await engine.stop({ save: true });
    sim.logoutFromPhone('34600000001');
    const restarted = sim.engineFor('t1');
    const events = record(restarted);
    await restarted.start();

    expect(events).toEqual([['disconnected', { reason: 'logout', detail: expect.any(String) }]]);
    expect(sim.sessions.load('t1')).toBeUndefined();
  });

  it('when a stopped session is sent to, then the send is refused', async () => {
    const { sim } = network();
    const { engine } = await linkedSession(sim, 't1', '34600000001');
    await engine.stop({ save: true });

    await expect(engine.send('34699999999', 'x')).rejects.toBeInstanceOf(EngineNotReadyError);
    expect(sim.sent('34600000001')).toEqual([]);
  });
});

describe('media from a simulated customer', () => {
  it('arrives typed with its caption, and its bytes download on demand (or fail once gone)', async () => {
    const { sim } = network();
    const { events } = await linkedSession(sim, 't1', '34600000001');
    const photo = Buffer.from('jpeg bytes');
    sim.receiveMedia('34600000001', '34699000001', {
      type: 'image',
      bytes: photo,
      mimeType: 'image/jpeg',
      caption: '¿Este?',
    });
    sim.receiveMedia('34600000001', '34699000001', {
      type: 'audio',
      bytes: Buffer.from('opus'),
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
      gone: true,
    });
    const [image, voice] = events.filter(([name]) => name === 'message').map(([, p]) => p as EngineMessage);
    expect(image).toMatchObject({
      type: 'image',
      text: '¿Este?',
      media: { mimeType: 'image/jpeg', size: 10 },
    });
    photo.fill(0); // the message kept its own copy
    expect((await image!.media!.download()).toString()).toBe('jpeg bytes');
    expect(voice).toMatchObject({ type: 'audio', text: '', media: { voice: true } });
    await expect(voice!.media!.download()).rejects.toBeInstanceOf(EngineMediaUnavailableError);
  });
});
