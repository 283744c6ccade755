import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearOpenAiClientCache } from '../../lib/openai/openai-client.ts';
import { OpenAiUnavailableError } from '../../lib/openai/retry.ts';
import {
  createFaqVectorStore,
  deleteFaqVectorStore,
  renderFaqMarkdown,
} from '../../lib/openai/vector-store.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';

let fake: FakeOpenAi;

beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.reset();
  clearOpenAiClientCache();
});

const faqs = [
  { q: '¿A qué hora abrís?', a: 'De 9 a 18, de lunes a sábado.' },
  { q: '¿Tenéis parking?', a: 'Sí, gratuito para clientes.' },
];

const base = () => ({ apiKey: fake.key, baseURL: fake.url, backoffMs: 5, pollIntervalMs: 5 });

describe('FAQ vector store', () => {
  it('given FAQs, when the store is created, then one Markdown file with every Q/A is uploaded and attached', async () => {
    const { vectorStoreId, fileId } = await createFaqVectorStore({
      ...base(),
      name: 'Casa Pepe',
      faqs,
      metadata: { tenant_id: 'cl_1' },
    });

    const file = fake.files.get(fileId);
    expect(file?.purpose).toBe('assistants');
    expect(file?.filename).toMatch(/\.md$/);
    expect(file?.content).toBe(renderFaqMarkdown('Casa Pepe', faqs));
    expect(file?.content).toContain('Q: ¿A qué hora abrís?\nA: De 9 a 18, de lunes a sábado.');
    expect(file?.content).toContain('Q: ¿Tenéis parking?\nA: Sí, gratuito para clientes.');
    const store = fake.vectorStores.get(vectorStoreId);
    expect(store?.name).toBe('Casa Pepe');
    expect(store?.metadata).toEqual({ tenant_id: 'cl_1' });
    expect([...(store?.files.keys() ?? [])]).toEqual([fileId]);
    expect(store?.files.get(fileId)?.status).toBe('completed');
  });

  it('given indexing takes a few polls, when the store is created, then it waits until the file is indexed', async () => {
    fake.setIndexing({ polls: 3 });

    const { vectorStoreId, fileId } = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs });

    expect(fake.vectorStores.get(vectorStoreId)?.files.get(fileId)?.status).toBe('completed');
    expect(fake.requestsTo('GET', `/v1/vector_stores/${vectorStoreId}/files/${fileId}`)).toHaveLength(4);
  });

  it('given indexing fails, when the store is created, then it throws and leaves neither store nor file behind', async () => {
    fake.setIndexing({ outcome: 'failed' });

    const error = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAiUnavailableError);
    expect(fake.vectorStores.size).toBe(0);
    expect(fake.files.size).toBe(0);
  });

  it('given a 500 on upload, when the store is created, then the upload is retried', async () => {
    fake.failNext(1, { status: 500 }, { method: 'POST', path: '/v1/files' });

    const { fileId } = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs });

    expect(fake.files.has(fileId)).toBe(true);
    expect(fake.requestsTo('POST', '/v1/files').map((r) => r.status)).toEqual([500, 200]);
  });

  it('given vector store creation keeps failing, when the store is created, then the uploaded file is deleted', async () => {
    fake.failNext(10, { status: 503 }, { method: 'POST', path: '/v1/vector_stores' });

    const error = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs, retries: 1 }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(OpenAiUnavailableError);
    expect((error as OpenAiUnavailableError).reason).toBe('server_error');
    expect(fake.files.size).toBe(0);
  });

  it('given a store and its file, when deleted, then both are gone', async () => {
    const created = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs });

    const result = await deleteFaqVectorStore({ ...base(), ...created });

    expect(result).toEqual({ vectorStoreDeleted: true, fileDeleted: true });
    expect(fake.vectorStores.size).toBe(0);
    expect(fake.files.size).toBe(0);
  });

  it('given a store already gone, when deleted, then it is not an error', async () => {
    const result = await deleteFaqVectorStore({ ...base(), vectorStoreId: 'vs_gone', fileId: 'file-gone' });

    expect(result).toEqual({ vectorStoreDeleted: false, fileDeleted: false });
  });

  it('given an invalid key, when the store is created, then it fails with auth without retrying', async () => {
    const error = await createFaqVectorStore({ ...base(), apiKey: 'sk-wrong-000000', name: 'X', faqs }).catch(
      (e: unknown) => e,
    );

    expect((error as OpenAiUnavailableError).reason).toBe('auth');
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ['the upload', '/v1/files', 'the FAQ file upload'],
    ['the store creation', '/v1/vector_stores', 'the vector store creation'],
  ])(
    'given OpenAI answers %s without an id, then it fails in our words and never calls …/undefined',
    async (_, path, step) => {
      fake.failNext(1, { omitId: true }, { method: 'POST', path });

      const error = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs }).catch(
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(OpenAiUnavailableError);
      expect((error as Error).message).toBe(`OpenAI answered ${step} without an id`);
      expect(fake.requests.some((r) => r.path.includes('undefined'))).toBe(false);
      if (path === '/v1/vector_stores') expect(fake.files.size).toBe(0); // the upload is cleaned up
    },
  );

  it('given OpenAI refuses the upload with a long message, then the error says what failed with the status only', async () => {
    const upstream = `Upstream prose that must not reach an operator: ${'x'.repeat(400)}`;
    fake.failNext(1, { status: 400, message: upstream }, { method: 'POST', path: '/v1/files' });

    const error = await createFaqVectorStore({ ...base(), name: 'Casa Pepe', faqs }).catch((e: unknown) => e);

    expect((error as Error).message).toBe('OpenAI refused the FAQ file upload (HTTP 400)');
    expect((error as OpenAiUnavailableError).reason).toBe('bad_request');
  });
});
