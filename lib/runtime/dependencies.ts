import { KMSClient } from '@aws-sdk/client-kms';
import { awsClients } from '../aws-clients.ts';
import { type AppConfig, parseConfig } from '../config.ts';
import { ConversationStore } from '../conversation/conversation-store.ts';
import { withFallback } from '../conversation/fallback-responder.ts';
import { MessageClaims } from '../conversation/message-claims.ts';
import { createOpenAiResponder, deleteConversation } from '../openai/openai-responder.ts';
import { createFaqVectorStore, deleteFaqVectorStore } from '../openai/vector-store.ts';
import type { FaqVectorStores } from '../provisioning/provision-assistant.ts';
import { createFaqResponder } from '../responders/faq-responder.ts';
import { createS3MediaStore } from '../retention/media-store.ts';
import type { PurgeDeps } from '../retention/purge.ts';
import { RetentionStore } from '../retention/retention-store.ts';
import { readPlatformSecret } from '../secrets/platform-secrets.ts';
import { createKmsSecretBox, createLocalSecretBox, type SecretBox } from '../secrets/secret-box.ts';
import { ClientRepository } from '../tenants/client-repository.ts';
import { createGraphClient } from '../whatsapp/graph-client.ts';

/**
 * Composition: builds the adapters the functions use from the configuration, once per process
 * (module scope of each Lambda, or once per local stack). Tests build their own with fakes.
 */
export interface Dependencies {
  config: AppConfig;
  clients: ClientRepository;
  conversations: ConversationStore;
  claims: MessageClaims;
  secrets: SecretBox;
}

/**
 * How long a worker holds a message before another may take it over: above the assistant's
 * timeout (90 s) so a live worker is never overtaken, below the queue's visibility timeout (180 s) so
 * a redelivery after a crash can take over.
 */
export const CLAIM_LEASE_MS = 120_000;

export function buildDependencies(env: NodeJS.ProcessEnv = process.env): Dependencies {
  const config = parseConfig(env);
  const { dynamo } = awsClients();
  return {
    config,
    clients: new ClientRepository(dynamo, config.TABLE_NAME),
    conversations: new ConversationStore(dynamo, config.TABLE_NAME),
    claims: new MessageClaims(dynamo, config.TABLE_NAME, Number(env.CLAIM_LEASE_MS ?? CLAIM_LEASE_MS)),
    secrets: secretBoxFor(config),
  };
}

export function secretBoxFor(config: AppConfig): SecretBox {
  if (config.TENANT_SECRETS_KMS_KEY_ID)
    return createKmsSecretBox(new KMSClient({}), config.TENANT_SECRETS_KMS_KEY_ID);
  if (config.LOCAL_SECRETS_KEY) return createLocalSecretBox(config.LOCAL_SECRETS_KEY);
  throw new Error(
    'configure TENANT_SECRETS_KMS_KEY_ID (AWS) or LOCAL_SECRETS_KEY (local) to store tenant secrets',
  );
}

/** The responder chain: OpenAI (tenant key, else platform key) falling back to the FAQ responder. */
export async function buildResponder(config: AppConfig) {
  // Read per reply (Powertools caches it 5 minutes): a rotated or newly filled key is picked up.
  const platformApiKey = () => readPlatformSecret('OPENAI_API_KEY');
  const openai = createOpenAiResponder({
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    retries: config.OPENAI_RETRIES,
    backoffMs: config.OPENAI_BACKOFF_MS,
    platformApiKey,
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
  });
  return withFallback(openai, createFaqResponder());
}

export function buildSender(config: AppConfig) {
  return createGraphClient({ baseUrl: config.GRAPH_API_BASE_URL, version: config.GRAPH_API_VERSION });
}

export function buildVectorStores(config: AppConfig): FaqVectorStores {
  const baseURL = config.OPENAI_BASE_URL;
  return {
    create: (args) => createFaqVectorStore({ ...args, ...(baseURL ? { baseURL } : {}) }),
    delete: async (args) => {
      await deleteFaqVectorStore({ ...args, ...(baseURL ? { baseURL } : {}) });
    },
  };
}

/** The purge's dependencies (scheduled function and the operator's forced purge). */
export function buildPurgeDependencies(base: Dependencies): PurgeDeps {
  const baseURL = base.config.OPENAI_BASE_URL;
  const { dynamo, s3 } = awsClients();
  return {
    clients: base.clients,
    store: new RetentionStore(dynamo, base.config.TABLE_NAME),
    secrets: base.secrets,
    platformOpenAiKey: () => readPlatformSecret('OPENAI_API_KEY'),
    openai: {
      deleteConversation: (apiKey, conversationId) =>
        deleteConversation({ apiKey, conversationId, ...(baseURL ? { baseURL } : {}) }),
      deleteVectorStore: async (apiKey, vectorStoreId, fileId) => {
        const result = await deleteFaqVectorStore({
          apiKey,
          vectorStoreId,
          ...(fileId ? { fileId } : {}),
          ...(baseURL ? { baseURL } : {}),
        });
        return result.vectorStoreDeleted;
      },
    },
    ...(base.config.MEDIA_BUCKET_NAME
      ? { media: createS3MediaStore(s3, base.config.MEDIA_BUCKET_NAME) }
      : {}),
  };
}

/** Memoizes an async factory: the first call builds, later calls share the result. */
export function once<T>(factory: () => Promise<T> | T): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= Promise.resolve().then(factory);
    value.catch(() => {
      value = undefined; // a failed cold start may succeed on the next invocation
    });
    return value;
  };
}
