import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProvisionerHandler } from '../../functions/provisioner.ts';
import { logger } from '../../lib/logger.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import { createFaqVectorStore, deleteFaqVectorStore } from '../../lib/openai/vector-store.ts';
import { type ProvisionDeps, provisionAssistant } from '../../lib/provisioning/provision-assistant.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/** The provisioner on DynamoDB Local with the real OpenAI client against the local fake. */

let openai: FakeOpenAi;
let clients: ClientRepository;
let service: ClientService;
let deps: ProvisionDeps;
let client: Client;
let numberSeq = 444000100;
const secrets = createLocalSecretBox('provisioner-test-key');

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  openai = await startFakeOpenAi();
  clients = new ClientRepository(aws.dynamo, tableName);
  service = testClientService(clients, secrets, { platformHasOpenAi: true });
  deps = {
    clients,
    secrets,
    platformOpenAiKey: async () => openai.key,
    vectorStores: {
      create: (args) => createFaqVectorStore({ ...args, baseURL: openai.url, pollIntervalMs: 1 }),
      delete: async (args) => {
        await deleteFaqVectorStore({ ...args, baseURL: openai.url });
      },
    },
  };
});

afterAll(async () => {
  await openai?.stop();
});

beforeEach(async () => {
  openai.reset(); // scripted failures a test left unused must not reach the next one
  client = await service.create({
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
  });
});

describe('the provisioner', () => {
  it('builds the vector store of the FAQs and marks the assistant ready', async () => {
    expect(client.assistant.status).toBe('pending');
    expect(await provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps)).toBe('ready');
    const stored = await clients.get(client.id);
    expect(stored?.assistant.status).toBe('ready');
    expect(openai.vectorStores.has(stored!.assistant.vector_store_id!)).toBe(true);
    const uploaded = [...openai.files.values()].at(-1);
    expect(JSON.stringify(uploaded)).toContain('menú del día');
  });

  it('drops a job for a version that is no longer current', async () => {
    await service.update(client.id, { faqs: [...laPlazaFaqs, { q: '¿Terraza?', a: 'Sí.' }] });
    expect(await provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps)).toBe('superseded');
  });

  it('replaces the old vector store when the FAQs change, and deletes it', async () => {
    await provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps);
    const v1 = (await clients.get(client.id))!.assistant.vector_store_id!;
    await service.update(client.id, { faqs: [...laPlazaFaqs, { q: '¿Terraza?', a: 'Sí.' }] });
    expect(await provisionAssistant({ client_id: client.id, assistant_version: 2 }, deps)).toBe('ready');
    const v2 = (await clients.get(client.id))!.assistant.vector_store_id!;
    expect(v2).not.toBe(v1);
    expect(openai.vectorStores.has(v1)).toBe(false);
    expect(openai.vectorStores.has(v2)).toBe(true);
  });

  it('given the same job delivered twice at once, then one store is kept and the other deleted', async () => {
    const before = new Set(openai.vectorStores.keys());
    const outcomes = await Promise.all([
      provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps),
      provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps),
    ]);
    // Overlapping, one wins and one is superseded; should the second start only after the first
    // finished (a busy machine), it replaces the first's store. Either way one store is left.
    expect([
      ['ready', 'superseded'],
      ['ready', 'ready'],
    ]).toContainEqual(outcomes.sort());
    const created = [...openai.vectorStores.keys()].filter((id) => !before.has(id));
    expect(created).toEqual([(await clients.get(client.id))!.assistant.vector_store_id]);
  });

  it('given OpenAI failing, then the assistant shows failed with the reason and the job is retried', async () => {
    openai.failNext(5, { status: 500 }, { method: 'POST', path: '/v1/files' });
    await expect(provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps)).rejects.toThrow();
    const stored = await clients.get(client.id);
    expect(stored?.assistant.status).toBe('failed');
    expect(stored?.assistant.status_reason).toContain('vector store build failed');
  });

  it('given OpenAI refusing the upload with a long message, then the reason says what failed in our words and the log keeps OpenAI\u2019s', async () => {
    const upstream = `Incorrect API key provided: sk-ab*****cdef. ${'Upstream prose. '.repeat(30)}`;
    openai.failNext(1, { status: 401, message: upstream }, { method: 'POST', path: '/v1/files' });
    const warn = vi.spyOn(logger, 'warn');
    try {
      await expect(
        provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps),
      ).rejects.toThrow();
      const reason = (await clients.get(client.id))?.assistant.status_reason;
      expect(reason).toBe(
        'vector store build failed, retrying: OpenAI refused the FAQ file upload (HTTP 401)',
      );
      expect(JSON.stringify(warn.mock.calls)).toContain('Upstream prose.');
    } finally {
      warn.mockRestore();
    }
  });

  it('given OpenAI answering the store creation without an id, then the build fails with a reason and calls no …/undefined path', async () => {
    openai.failNext(1, { omitId: true }, { method: 'POST', path: '/v1/vector_stores' });
    await expect(provisionAssistant({ client_id: client.id, assistant_version: 1 }, deps)).rejects.toThrow();
    const stored = await clients.get(client.id);
    expect(stored?.assistant.status).toBe('failed');
    expect(stored?.assistant.status_reason).toBe(
      'vector store build failed, retrying: OpenAI answered the vector store creation without an id',
    );
    expect(openai.requests.some((r) => r.path.includes('undefined'))).toBe(false);
  });

  it('given an internal error, then the reason says so without its text', async () => {
    const failing: ProvisionDeps = {
      ...deps,
      vectorStores: {
        ...deps.vectorStores,
        create: async () => Promise.reject(new TypeError('secret internals')),
      },
    };
    await expect(
      provisionAssistant({ client_id: client.id, assistant_version: 1 }, failing),
    ).rejects.toThrow();
    const reason = (await clients.get(client.id))?.assistant.status_reason;
    expect(reason).toBe('vector store build failed, retrying: an internal error (see the provisioner logs)');
  });
});

/** An SQS delivery of provisioning jobs, as the provision queue sends them. */
const jobs = (...bodies: Array<{ client_id: string; assistant_version: number }>): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `job${i}`,
    receiptHandle: `r${i}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:1:provision',
    awsRegion: 'us-east-1',
  })),
});

describe('the provisioner function', () => {
  it('given a batch of one job that builds and one that fails, then each is counted and flushed with its tenant as metadata', async () => {
    const telemetry = new InMemoryTelemetry();
    const handler = createProvisionerHandler(async () => deps, { telemetry });
    openai.failNext(1, { status: 400 }, { method: 'POST', path: '/v1/files' });
    const other = await service.create({
      name: 'Clínica Dental Sonrisa',
      phone_number: '+34666777999',
      phone_number_id: String(numberSeq++),
      faqs: laPlazaFaqs,
      language: 'es',
      bot_enabled: true,
      retention_hours: 24,
    });

    const result = await handler(
      jobs({ client_id: other.id, assistant_version: 1 }, { client_id: client.id, assistant_version: 1 }),
    );

    // The records run side by side: whichever uploads first meets the scripted failure.
    expect(result.batchItemFailures).toHaveLength(1);
    expect(telemetry.total('ProvisioningFailures')).toBe(1);
    expect(telemetry.total('AssistantsProvisioned')).toBe(1);
    expect(telemetry.flushes).toHaveLength(2);
    expect(telemetry.flushes).toEqual(
      expect.arrayContaining([{ tenant_id: other.id }, { tenant_id: client.id }]),
    );
  });
});
