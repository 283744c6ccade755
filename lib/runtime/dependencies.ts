import { KMSClient } from '@aws-sdk/client-kms';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../aws/dynamo-clients.ts';
import { createS3Client } from '../aws/s3-client.ts';
import { createSqsClient } from '../aws/sqs-client.ts';
import { type AppConfig, type ConfigWith, parseConfig } from '../config.ts';
import { ConversationStore } from '../conversation/conversation-store.ts';
import { withFallback } from '../conversation/fallback-responder.ts';
import { MessageClaims } from '../conversation/message-claims.ts';
import type { WhatsAppSender } from '../conversation/ports.ts';
import { pruneConversationItems } from '../openai/conversation-retention.ts';
import { createOpenAiResponder, deleteConversation } from '../openai/openai-responder.ts';
import { createFaqVectorStore, deleteFaqVectorStore } from '../openai/vector-store.ts';
import type { FaqVectorStores } from '../provisioning/provision-assistant.ts';
import { SqsQrCommandQueue } from '../qr/command-queue.ts';
import { QrCommandSender, routeByChannel } from '../qr/qr-sender.ts';
import { QrStatusStore } from '../qr/qr-status-store.ts';
import { S3SessionStore } from '../qr/s3-session-store.ts';
import { createFaqResponder } from '../responders/faq-responder.ts';
import { createS3MediaStore } from '../retention/media-store.ts';
import type { PurgeDeps } from '../retention/purge.ts';
import { RetentionStore } from '../retention/retention-store.ts';
import { readPlatformSecret } from '../secrets/platform-secrets.ts';
import { createKmsSecretBox, createLocalSecretBox, type SecretBox } from '../secrets/secret-box.ts';
import { TemplateCatalog } from '../templates/template-catalog.ts';
import { ApiKeyRepository } from '../tenants/api-key-repository.ts';
import { ClientRepository } from '../tenants/client-repository.ts';
import type { QrModePort } from '../tenants/client-service.ts';
import { createGraphClient } from '../whatsapp/graph-client.ts';

/**
 * Composition: builds the adapters the functions use from the configuration, once per process
 * (module scope of each Lambda, or once per local stack). Tests build their own with fakes.
 */
export interface Dependencies {
  config: ConfigWith<'TABLE_NAME'>;
  /** The document client the stores share (one per process). */
  dynamo: DynamoDBDocumentClient;
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

/**
 * The configuration (parsed once, at the function's cold start: a missing TABLE_NAME, or anything in
 * `required`, fails it with the variable's name) and the stores every function shares.
 */
export function buildDependencies<K extends keyof AppConfig = never>(required: readonly K[] = []) {
  const config = parseConfig(undefined, ['TABLE_NAME', ...required]);
  const { dynamo } = createDynamoClients(config);
  return {
    config,
    dynamo,
    clients: new ClientRepository(dynamo, config.TABLE_NAME),
    conversations: new ConversationStore(dynamo, config.TABLE_NAME),
    claims: new MessageClaims(dynamo, config.TABLE_NAME, config.CLAIM_LEASE_MS ?? CLAIM_LEASE_MS),
    secrets: secretBoxFor(config),
  } satisfies Dependencies;
}

export function secretBoxFor(config: AppConfig): SecretBox {
  if (config.TENANT_SECRETS_KMS_KEY_ID)
    return createKmsSecretBox(new KMSClient({ region: config.AWS_REGION }), config.TENANT_SECRETS_KMS_KEY_ID);
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
    imageDetail: config.OPENAI_IMAGE_DETAIL,
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
  });
  return withFallback(openai, createFaqResponder());
}

/**
 * The Cloud API sender; with QR mode on (QR_COMMAND_QUEUE_URLS), replies of QR tenants go to their
 * shard's command queue instead.
 */
export function buildSender(config: AppConfig): WhatsAppSender {
  const cloudApi = createGraphClient({
    baseUrl: config.GRAPH_API_BASE_URL,
    version: config.GRAPH_API_VERSION,
  });
  const queueUrls = config.QR_COMMAND_QUEUE_URLS ?? [];
  if (queueUrls.length === 0) return cloudApi;
  const commands = new SqsQrCommandQueue(createSqsClient(config), queueUrls);
  return routeByChannel(cloudApi, new QrCommandSender(commands, queueUrls.length));
}

/**
 * The client service's QR mode (`{ qr }`, to spread into its deps) when QR_COMMAND_QUEUE_URLS names
 * command queues: the shards' queues, the runner's status reports, and the stored sessions when
 * QR_SESSION_BUCKET is set. `{}` without queues: QR mode is off (choosing it is 409).
 */
export function buildQrModePort(base: Dependencies, sqs: SQSClient): { qr?: QrModePort } {
  const { config } = base;
  const queueUrls = config.QR_COMMAND_QUEUE_URLS ?? [];
  if (queueUrls.length === 0) return {};
  return {
    qr: {
      commands: new SqsQrCommandQueue(sqs, queueUrls),
      shardCount: queueUrls.length,
      statuses: new QrStatusStore(base.dynamo, config.TABLE_NAME),
      ...(config.QR_SESSION_BUCKET
        ? { sessions: new S3SessionStore(createS3Client(config), config.QR_SESSION_BUCKET) }
        : {}),
    },
  };
}

/** The approved message templates of the tenants' WABAs, cached in the table (template-catalog.ts). */
export function buildTemplateCatalog(base: Pick<Dependencies, 'config' | 'dynamo'>): TemplateCatalog {
  return new TemplateCatalog({
    db: base.dynamo,
    tableName: base.config.TABLE_NAME,
    graphBaseUrl: base.config.GRAPH_API_BASE_URL,
    graphVersion: base.config.GRAPH_API_VERSION,
  });
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
  return {
    clients: base.clients,
    store: new RetentionStore(base.dynamo, base.config.TABLE_NAME),
    secrets: base.secrets,
    platformOpenAiKey: () => readPlatformSecret('OPENAI_API_KEY'),
    apiKeys: new ApiKeyRepository(base.dynamo, base.config.TABLE_NAME),
    openai: {
      deleteConversation: (apiKey, conversationId, keyOwner) =>
        deleteConversation({
          apiKey,
          conversationId,
          ...(keyOwner ? { keyOwner } : {}),
          ...(baseURL ? { baseURL } : {}),
        }),
      pruneConversation: ({ apiKey, owner, conversationId, before, limit }) =>
        pruneConversationItems({
          apiKey,
          keyOwner: owner,
          conversationId,
          before,
          limit,
          // Listing and deleting items is quick: a hung call must not eat the run's time budget.
          timeoutMs: 10_000,
          ...(baseURL ? { baseURL } : {}),
        }),
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
      ? { media: createS3MediaStore(createS3Client(base.config), base.config.MEDIA_BUCKET_NAME) }
      : {}),
  };
}

/** Kept here for the functions that import it with the rest of their composition. */
export { once } from './once.ts';
