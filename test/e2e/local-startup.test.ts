import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEMO_PHONE_NUMBER_ID, LEGACY_DEMO_PHONE_NUMBER_ID } from '../../infra/local/demo-tenant.ts';
import { freePort } from '../../infra/local/emulators.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../infra/local/stack.ts';
import { uniqueName } from '../support/emulators.ts';

/**
 * A newcomer's first minutes with the local stack (issue 8): the demo tenant sits on a fake number,
 * so the README's and seed 003's `POST /clients` example (Restaurante La Plaza, 631261586727899)
 * works as written; `DEMO_TENANT=off` starts without it; a data directory of an older run, whose demo
 * tenant holds the seed's number, is moved off it; and `/health` answers while the stack starts.
 */

/** Seed 003's example body, exactly. */
const seedBody = {
  name: 'Restaurante La Plaza',
  phone_number: '+34666777888',
  phone_number_id: '631261586727899',
  faqs: [
    {
      q: '¿Cuál es vuestro horario?',
      a: 'Abrimos de lunes a viernes de 9:00 a 22:00, y sábados de 10:00 a 23:00',
    },
    {
      q: '¿Hacéis reservas?',
      a: 'Sí, puedes reservar llamando al +34666777888 o a través de nuestra web',
    },
    {
      q: '¿Tenéis menú del día?',
      a: 'Sí, nuestro menú del día cuesta 12€ e incluye primer plato, segundo, postre y bebida',
    },
  ],
  welcome_message: '¡Hola! Soy el asistente virtual del Restaurante La Plaza. ¿En qué puedo ayudarte?',
  business_hours: 'L-V: 9:00-22:00, S: 10:00-23:00',
};

const OPERATOR_KEY = 'startup-operator-key';
const running: LocalStack[] = [];
const dirs: string[] = [];

async function start(options: LocalStackOptions = {}, env: Record<string, string> = {}) {
  const stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('startup'),
    withSes: false,
    ...options,
    // A script of its own: its own key and an outside Graph server, as the newcomer had.
    env: { OPERATOR_API_KEY: OPERATOR_KEY, GRAPH_API_BASE_URL: 'https://graph.invalid', ...env },
  });
  running.push(stack);
  return stack;
}

async function stop(stack: LocalStack) {
  running.splice(running.indexOf(stack), 1);
  await stack.stop();
}

async function api(stack: LocalStack, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const numbersOf = async (stack: LocalStack) =>
  (await api(stack, 'GET', '/clients')).body.clients.map(
    (c: { phone_number_id: string }) => c.phone_number_id,
  );

afterAll(async () => {
  await Promise.all(running.splice(0).map((stack) => stack.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the demo tenant', () => {
  it('given DEMO_TENANT=off, then the stack starts without any tenant', async () => {
    const stack = await start({ seedDemo: true }, { DEMO_TENANT: 'off' });
    expect(stack.demoClientId).toBeUndefined();
    expect(await numbersOf(stack)).toEqual([]);
    await stop(stack);
  });

  it("is on a fake number, so seed 003's exact body creates La Plaza (201)", async () => {
    const stack = await start();
    expect(stack.demo).toMatchObject({ id: stack.demoClientId, phone_number_id: DEMO_PHONE_NUMBER_ID });
    expect(stack.demo?.phone_number).toMatch(/^\+1555/);
    const created = await api(stack, 'POST', '/clients', seedBody);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: seedBody.name, phone_number_id: '631261586727899' });
    expect((await numbersOf(stack)).sort()).toEqual([DEMO_PHONE_NUMBER_ID, '631261586727899'].sort());
    await stop(stack);
  });

  it('given a data directory of an older run whose demo holds 631261586727899, then it is moved to the fake number, once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'startup-legacy-'));
    dirs.push(dataDir);
    const namePrefix = uniqueName('legacy');
    // Given an older run's data: its demo tenant was created with seed 003's body.
    const older = await start({ dataDir, namePrefix, seedDemo: false });
    const legacy = await api(older, 'POST', '/clients', seedBody);
    expect(legacy.status).toBe(201);
    await stop(older);
    rmSync(join(dataDir, 'local-stack.json')); // older runs wrote no marker

    const upgraded = await start({ dataDir, namePrefix });
    expect(upgraded.demoClientId).toBe(legacy.body.id);
    const moved = await api(upgraded, 'GET', `/clients/${legacy.body.id}`);
    expect(moved.body.phone_number_id).toBe(DEMO_PHONE_NUMBER_ID);
    // The seed's number is free again: the operator's own La Plaza takes it…
    const own = await api(upgraded, 'POST', '/clients', seedBody);
    expect(own.status).toBe(201);
    await stop(upgraded);

    // …and a later start leaves it where it is.
    const later = await start({ dataDir, namePrefix });
    expect(later.demoClientId).toBe(legacy.body.id);
    expect((await api(later, 'GET', `/clients/${own.body.id}`)).body.phone_number_id).toBe(
      LEGACY_DEMO_PHONE_NUMBER_ID,
    );
    await stop(later);
  });
});

describe('GET /health while the stack starts', () => {
  it('answers 503 until the stack is ready, then 200; no probe is left hanging', async () => {
    const port = await freePort();
    const starting = start({ port });
    let ready = false;
    void starting.then(() => {
      ready = true;
    });
    const statuses: number[] = [];
    while (!ready) {
      try {
        // A probe left unanswered would time out here and fail the test.
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) });
        statuses.push(res.status);
        if (res.status === 503) expect(await res.json()).toEqual({ status: 'starting' });
      } catch (error) {
        if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stack = await starting;
    expect(statuses).toContain(503);
    expect(statuses.filter((status) => status !== 503 && status !== 200)).toEqual([]);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    await stop(stack);
  });
});
