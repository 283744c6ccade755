import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startHealthServer } from '../../lib/qr/runner/health-server.ts';
import type { RunnerHealth } from '../../lib/qr/runner/qr-runner.ts';

describe("the QR runner task's /health", () => {
  it('answers 200 while holding or looking for a shard, 503 once stopping, 404 elsewhere', async () => {
    let health: RunnerHealth = { phase: 'acquiring' };
    const server = await startHealthServer(() => health, 0, '127.0.0.1');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const first = await fetch(`${url}/health`);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ ok: true, phase: 'acquiring' });
      health = { phase: 'holding', shard: '2', fencing: 7 };
      expect(await (await fetch(`${url}/health`)).json()).toEqual({
        ok: true,
        phase: 'holding',
        shard: '2',
        fencing: 7,
      });
      health = { phase: 'stopping', shard: '2', fencing: 7 };
      expect((await fetch(`${url}/health`)).status).toBe(503);
      expect((await fetch(`${url}/sessions`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
