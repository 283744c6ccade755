import { describe, expect, it } from 'vitest';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import type { CommandSource } from '../../lib/qr/runner/command-source.ts';
import { QrRunner } from '../../lib/qr/runner/qr-runner.ts';
import type { ShardLease } from '../../lib/qr/shard-lease.ts';
import { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';

/**
 * SIGTERM in order: stop taking commands, save and close each session, then release the lease —
 * and nothing after the release writes on the shard's behalf.
 */
describe('a QR runner on SIGTERM', () => {
  it('stops taking commands, saves each session, then releases the lease', async () => {
    const steps: string[] = [];
    const whatsapp = new SimulatedWhatsApp();
    const lease: ShardLease = { shard: '0', owner: 'task-a', fencing: 3, leaseUntil: Date.now() + 60_000 };
    const polling: CommandSource = {
      receive: (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            steps.push('commands stopped');
            resolve([]);
          });
        }),
    };
    const engineFor = (tenantId: string) => {
      const engine = whatsapp.engineFor(tenantId);
      const stop = engine.stop.bind(engine);
      engine.stop = async (options) => {
        steps.push(`stop ${tenantId} save=${options.save}`);
        await stop(options);
      };
      return engine;
    };
    const runner = new QrRunner({
      shards: ['0'],
      leases: {
        acquire: async () => lease,
        heartbeat: async (held) => held,
        release: async () => {
          steps.push('lease released');
          return true;
        },
      },
      commandsOf: () => polling,
      membersOf: async () => ['t1', 't2'],
      isMember: async (_shard, tenantId) => ['t1', 't2'].includes(tenantId),
      writeStatus: async (tenantId, status) => {
        if (steps.includes('lease released')) steps.push(`late write ${tenantId} ${status.state}`);
      },
      publish: async () => undefined,
      ledger: { claim: async () => true, release: async () => undefined },
      engineFor,
      telemetry: new InMemoryTelemetry(),
      logger: { info() {}, warn() {}, error() {} },
      sessionsLimit: 4,
    });
    runner.start();
    for (let i = 0; i < 100 && !(whatsapp.currentQr('t1') && whatsapp.currentQr('t2')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    whatsapp.scan(whatsapp.currentQr('t1')!.qr, '34611000001');
    expect(runner.health()).toEqual({ phase: 'holding', shard: '0', fencing: 3 });

    await runner.shutdown();

    expect(steps).toEqual(['commands stopped', 'stop t1 save=true', 'stop t2 save=true', 'lease released']);
    expect(whatsapp.sessions.load('t1')?.phoneNumber).toBe('34611000001');
    expect(runner.health()).toEqual({ phase: 'stopped' });
  });
});
