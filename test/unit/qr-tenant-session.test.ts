import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import { EngineEventHub } from '../../lib/qr/engine-events.ts';
import type { QrStatus } from '../../lib/qr/qr-status-store.ts';
import { restartDelayMs } from '../../lib/qr/runner/backoff.ts';
import { ShardSessions } from '../../lib/qr/runner/shard-sessions.ts';
import { TenantSession } from '../../lib/qr/runner/tenant-session.ts';
import type {
  EngineEventName,
  EngineEvents,
  EngineListener,
  EngineMessage,
  EngineState,
  WhatsAppSessionEngine,
} from '../../lib/qr/session-engine.ts';

/** An engine the test drives by hand; `sendEcho` makes a send come back as an own message first. */
class HandEngine implements WhatsAppSessionEngine {
  readonly hub = new EngineEventHub();
  current: EngineState = 'stopped';
  stops: boolean[] = [];
  loggedOut = false;
  sendEcho = false;
  memory: number | undefined;

  async memoryBytes() {
    return this.memory;
  }

  async start() {
    this.current = 'starting';
  }
  async send(to: string, text: string) {
    const id = `own_${text}`;
    if (this.sendEcho) this.emit('message', message({ id, chat: to, text, fromMe: true }));
    return { messageId: id };
  }
  state() {
    return this.current;
  }
  async stop({ save }: { save: boolean }) {
    this.stops.push(save);
    this.current = 'stopped';
  }
  async logout() {
    this.loggedOut = true;
    this.emit('disconnected', { reason: 'logout' });
  }
  on<E extends EngineEventName>(event: E, listener: EngineListener<E>) {
    return this.hub.on(event, listener);
  }
  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]) {
    if (event === 'ready') this.current = 'connected';
    if (event === 'disconnected') this.current = 'disconnected';
    this.hub.emit(event, payload);
  }
}

function message(partial: Partial<EngineMessage>): EngineMessage {
  return {
    id: 'm1',
    chat: '34699000001',
    from: '34699000001',
    type: 'text',
    text: 'hola',
    chatKind: 'direct',
    fromMe: false,
    at: new Date('2026-12-01T10:00:00Z'),
    ...partial,
  };
}

let engines: HandEngine[];
let statuses: QrStatus[];
let heard: Array<{ author: string; id: string }>;
let telemetry: InMemoryTelemetry;

function session(options: { answerGroups?: boolean; maxRestarts?: number } = {}) {
  return new TenantSession({
    tenantId: 't1',
    engineFor: () => {
      const engine = new HandEngine();
      engines.push(engine);
      return engine;
    },
    outlet: {
      async status(_tenant, status) {
        statuses.push(status);
      },
      async message(_tenant, m, author) {
        heard.push({ author, id: m.id });
      },
    },
    telemetry,
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    random: () => 0.5,
    ...options,
  });
}

const states = () => statuses.map((status) => status.state);
const last = () => engines.at(-1)!;

beforeEach(() => {
  vi.useFakeTimers();
  engines = [];
  statuses = [];
  heard = [];
  telemetry = new InMemoryTelemetry();
});
afterEach(() => vi.useRealTimers());

describe('restartDelayMs', () => {
  it('doubles up to the cap, half fixed and half jitter', () => {
    const policy = { baseMs: 1_000, maxMs: 8_000 };
    expect(restartDelayMs(1, policy, () => 0)).toBe(500);
    expect(restartDelayMs(1, policy, () => 1)).toBe(1_000);
    expect(restartDelayMs(3, policy, () => 0.5)).toBe(3_000);
    expect(restartDelayMs(10, policy, () => 1)).toBe(8_000);
  });
});

describe('a supervised QR session', () => {
  it('reports qr, linking and connected, with the QR and the number', async () => {
    const s = session();
    await s.start();
    last().emit('qr', { qr: 'QR-1', expiresAt: new Date('2026-12-01T10:00:20Z') });
    last().emit('linked', {});
    last().emit('ready', { phoneNumber: '34611000001' });
    await vi.runAllTimersAsync();
    expect(states()).toEqual(['starting', 'qr', 'linking', 'connected']);
    expect(statuses[1]).toMatchObject({ qr: 'QR-1', qr_expires_at: '2026-12-01T10:00:20.000Z' });
    expect(statuses[3]).toEqual({ state: 'connected', phone_number: '34611000001', restarts: 0 });
  });

  it('after a transient loss, restarts from a fresh engine after the backoff, then gives up as failed', async () => {
    const s = session({ maxRestarts: 2 });
    await s.start();
    last().emit('ready', { phoneNumber: '34611000001' });
    last().emit('disconnected', { reason: 'transient', detail: 'page crashed' });
    await vi.advanceTimersByTimeAsync(0);
    expect(s.state).toBe('reconnecting');
    expect(engines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(749); // first delay: 1 000 · (½ + ½ · 0.5) = 750 ms
    expect(engines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(engines).toHaveLength(2);
    expect(s.snapshot.restarts).toBe(1);

    last().emit('disconnected', { reason: 'transient' });
    await vi.advanceTimersByTimeAsync(1_500); // second delay: 2 000 · 0.75
    expect(engines).toHaveLength(3);
    last().emit('disconnected', { reason: 'transient' });
    await vi.runAllTimersAsync();
    expect(engines).toHaveLength(3);
    expect(s.snapshot).toMatchObject({ state: 'failed', restarts: 2 });
    expect(s.snapshot.last_error).toMatch(/gave up/);
    expect(telemetry.total('QrSessionFailed')).toBe(1);
    expect(telemetry.total('QrSessionRestarts')).toBe(2);
  });

  it('waits for a start after qr_expired, logout or conflict, and a start reopens it', async () => {
    for (const reason of ['qr_expired', 'logout', 'conflict'] as const) {
      const s = session();
      await s.start();
      last().emit('disconnected', { reason });
      await vi.runAllTimersAsync();
      expect(s.state).toBe({ qr_expired: 'qr_expired', logout: 'logged_out', conflict: 'failed' }[reason]);
      expect(s.waiting).toBe(true);
      const count = engines.length;
      await s.start();
      expect(engines).toHaveLength(count + 1);
      expect(s.state).toBe('starting');
    }
  });

  it('passes on customers and the owner, never its own sends, status broadcasts or groups', async () => {
    const s = session();
    await s.start();
    last().emit('ready', { phoneNumber: '34611000001' });
    last().sendEcho = true;
    await s.send('34699000001', 'Abrimos a las 9');
    last().emit('message', message({ id: 'own_Abrimos a las 9', fromMe: true, text: 'Abrimos a las 9' }));
    last().emit('message', message({ id: 'c1' }));
    last().emit('message', message({ id: 'o1', fromMe: true, text: 'Te llamo yo' }));
    last().emit('message', message({ id: 's1', chatKind: 'status' }));
    last().emit('message', message({ id: 'g1', chatKind: 'group', chat: '1203@g.us' }));
    await vi.runAllTimersAsync();
    expect(heard).toEqual([
      { author: 'customer', id: 'c1' },
      { author: 'owner', id: 'o1' },
    ]);
  });

  it('answers groups when the tenant opted in', async () => {
    const s = session({ answerGroups: true });
    await s.start();
    last().emit('message', message({ id: 'g1', chatKind: 'group', chat: '1203@g.us' }));
    await vi.runAllTimersAsync();
    expect(heard).toEqual([{ author: 'customer', id: 'g1' }]);
  });

  it('stops with or without saving, and an unlink logs out and reports logged_out', async () => {
    const s = session();
    await s.start();
    await s.stop(true);
    expect(engines[0]!.stops).toEqual([true]);
    await s.start();
    await s.unlink();
    expect(engines[1]!.loggedOut).toBe(true);
    expect(engines[1]!.stops).toEqual([false]);
    expect(s.state).toBe('logged_out');
  });
});

describe('the memory watchdog', () => {
  it('restarts a session over the limit from its saved copy, and leaves the others', async () => {
    const sessions = new ShardSessions({
      engineFor: () => {
        const engine = new HandEngine();
        engines.push(engine);
        return engine;
      },
      writeStatus: async (_tenant, status) => {
        statuses.push(status);
      },
      publish: async () => undefined,
      isMember: async () => true,
      ledger: { claim: async () => true, release: async () => undefined },
      telemetry,
      sessionsLimit: 4,
      onError: (error) => {
        throw error;
      },
    });
    await sessions.reconcile(['big', 'small']);
    const [big, small] = engines;
    big!.memory = 1_200 * 2 ** 20;
    small!.memory = 300 * 2 ** 20;
    await sessions.watchMemory(900 * 2 ** 20);
    expect(big!.stops).toEqual([true]);
    expect(small!.stops).toEqual([]);
    expect(engines).toHaveLength(3);
    expect(sessions.session('big')!.snapshot).toMatchObject({ state: 'reconnecting', restarts: 1 });
    expect(sessions.session('big')!.snapshot.last_error).toMatch(/memory 1200 MiB over 900 MiB/);
    expect(telemetry.total('QrSessionRestarts')).toBe(1);
  });
});

describe('a shard opening a session', () => {
  it('opens one engine when a start command comes while the membership read opens the session', async () => {
    const settingsReads: Array<() => void> = [];
    const sessions = new ShardSessions({
      engineFor: () => {
        const engine = new HandEngine();
        engines.push(engine);
        return engine;
      },
      writeStatus: async (_tenant, status) => {
        statuses.push(status);
      },
      publish: async () => undefined,
      // The first settings read is slow: the command is handled meanwhile.
      settingsOf: () => new Promise((resolve) => settingsReads.push(() => resolve({ answerGroups: false }))),
      isMember: async () => true,
      ledger: { claim: async () => true, release: async () => undefined },
      telemetry,
      sessionsLimit: 4,
      onError: (error) => {
        throw error;
      },
    });
    const reconciled = sessions.reconcile(['t1']);
    const started = sessions.handle({
      v: 1,
      id: 'cmd-start',
      kind: 'start',
      tenant_id: 't1',
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    });
    await vi.advanceTimersByTimeAsync(0); // the command is handled while the settings are read
    for (const read of settingsReads) read();
    await Promise.all([reconciled, started]);
    expect(engines).toHaveLength(1);
    expect(sessions.tenantIds).toEqual(['t1']);
  });
});
