import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
    expect(outcomes.sort()).toEqual(['ready', 'superseded']);
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
});
