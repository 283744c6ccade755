import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionPool, type FunctionPoolOptions } from '../../infra/local/function-isolate.ts';

/**
 * The local stack runs each function as Lambda does (infra/local/function-isolate.ts): isolates of
 * its own with their own module state, one invocation at a time each (or several when allowed), cold
 * starts when none is free, an environment thrown away after a timeout or a crash.
 */

const fixture = new URL('../fixtures/isolate-handler.mjs', import.meta.url);
const pools: FunctionPool[] = [];

function pool(overrides: Partial<FunctionPoolOptions> = {}) {
  const created = new FunctionPool({
    functionName: 'fixture',
    entryUrl: fixture,
    env: { FIXTURE_VALUE: 'from-creation' },
    maxIsolates: 2,
    timeoutMs: 5000,
    memoryMb: 128,
    endpoints: {},
    ...overrides,
  });
  pools.push(created);
  return created;
}

type Result = {
  invocations: number;
  threadId: number;
  value?: string;
  functionName: string;
  remainingMs: number;
};
const invoke = (target: FunctionPool, event: Record<string, unknown> = {}) =>
  target.invoke(event) as Promise<Result>;

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stop()));
});

describe('a function pool', () => {
  it('given one warm isolate, then invocations reuse it and its module state, with the environment it was created with', async () => {
    const fn = pool();
    await fn.provision(1);
    const first = await invoke(fn);
    const second = await invoke(fn);
    expect([first.invocations, second.invocations]).toEqual([1, 2]);
    expect(second.threadId).toBe(first.threadId);
    expect(first).toMatchObject({ value: 'from-creation', functionName: 'fixture' });
    expect(first.remainingMs).toBeGreaterThan(4000);
    expect(fn.usage).toMatchObject({ invocations: 2, errors: 0, coldStarts: 1 });
    expect(fn.usage.initMs).toHaveLength(1);
    expect(fn.usage.durationMs).toHaveLength(2);
    expect(fn.usage.cpuMs).toBeGreaterThan(0);
  });

  it('given two invocations at once, then each runs in an isolate of its own (a cold start for the second)', async () => {
    const fn = pool();
    await fn.provision(1);
    // Each waits for the other to arrive: only two isolates can hold both at once.
    const rendezvous = { dir: mkdtempSync(join(tmpdir(), 'isolates-')), count: 2 };
    const [a, b] = await Promise.all([invoke(fn, { rendezvous }), invoke(fn, { rendezvous })]);
    rmSync(rendezvous.dir, { recursive: true, force: true });
    expect(a.threadId).not.toBe(b.threadId);
    expect([a.invocations, b.invocations]).toEqual([1, 1]);
    expect(fn.usage.coldStarts).toBe(2);
  });

  it('given several invocations per isolate allowed, then they run side by side in one isolate and share its module state', async () => {
    const fn = pool({ maxIsolates: 1, invocationsPerIsolate: 3 });
    const results = await Promise.all([1, 2, 3].map(() => invoke(fn, { sleepMs: 300 })));
    expect(new Set(results.map((r) => r.threadId)).size).toBe(1);
    // Each read the shared counter after all three had started: they ran side by side.
    expect(results.map((r) => r.invocations)).toEqual([3, 3, 3]);
    expect(fn.concurrency).toBe(3);
  });

  it('given more invocations than isolates allowed, then the rest wait their turn', async () => {
    const fn = pool({ maxIsolates: 1 });
    const results = await Promise.all([1, 2, 3].map(() => invoke(fn, { sleepMs: 100 })));
    expect(new Set(results.map((r) => r.threadId)).size).toBe(1);
    // One after another: each saw only the invocations before it (side by side, all would see 3).
    expect(results.map((r) => r.invocations).sort()).toEqual([1, 2, 3]);
    expect(fn.concurrency).toBe(1);
  });

  it('given a handler that throws, then the invocation fails and the isolate stays warm', async () => {
    const fn = pool();
    await expect(invoke(fn, { throw: 'boom' })).rejects.toThrow('fixture: boom');
    expect((await invoke(fn)).invocations).toBe(2);
    expect(fn.usage).toMatchObject({ errors: 1, coldStarts: 1 });
  });

  it('given an invocation past its timeout, then it fails and the next one gets a fresh isolate', async () => {
    const fn = pool({ timeoutMs: 300 });
    await expect(invoke(fn, { sleepMs: 2000 })).rejects.toThrow('Task timed out after 0.30 seconds');
    const next = await invoke(fn);
    expect(next.invocations).toBe(1);
    expect(fn.usage.coldStarts).toBe(2);
  });

  it('given an isolate that crashes, then its invocation fails and a new isolate takes the next', async () => {
    const fn = pool();
    await expect(invoke(fn, { crash: true })).rejects.toThrow('the isolate crashed');
    expect((await invoke(fn)).invocations).toBe(1);
  });

  it('given a module that fails to load, then invocations fail with its error', async () => {
    const fn = pool({ env: { FIXTURE_FAIL_INIT: '1' } });
    await expect(invoke(fn)).rejects.toThrow('the module failed to load');
    await expect(fn.provision(1)).rejects.toThrow('the module failed to load');
  });

  it('given a stopped pool, then waiting and new invocations are refused', async () => {
    const fn = pool({ maxIsolates: 1 });
    const running = expect(invoke(fn, { sleepMs: 5000 })).rejects.toThrow('stopped');
    const waiting = expect(invoke(fn)).rejects.toThrow('stopped');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fn.stop();
    await Promise.all([running, waiting]);
    await expect(invoke(fn)).rejects.toThrow('stopping');
  });
});
