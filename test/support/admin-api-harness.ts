import { beforeEach } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { DynamoStatsStore } from '../../lib/stats/dynamo-stats-store.ts';
import { TemplateCatalog } from '../../lib/templates/template-catalog.ts';
import { TenantTemplates } from '../../lib/templates/tenant-templates.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { ClientService, type ProvisionJob, type QrModePort } from '../../lib/tenants/client-service.ts';
import { apiEvent } from './api-events.ts';
import { freshTable } from './emulators.ts';
import { tenantApiDeps } from './tenant-api-deps.ts';

/**
 * The admin API on a fresh table, as the tenant-route tests build it (offline assistant, purge
 * without OpenAI, statistics), and a `call` that presents a key from the test's own source address:
 * each test gets a new address, so failed authentications of one never limit another.
 */

export type CallOptions = Parameters<typeof apiEvent>[2] & { key?: string };

export interface AdminApiHarness {
  aws: AwsClients;
  tableName: string;
  handler: ReturnType<typeof createAdminApiHandler>;
  repository: ClientRepository;
  conversations: ConversationStore;
  stats: DynamoStatsStore;
  service: ClientService;
}

export function adminApiHarness(options: {
  operatorKey: string;
  /** The second octet of the test's addresses (10.<block>.x.y): distinct per file. */
  addressBlock: number;
  secretKey?: string;
  onProvision?: (job: ProvisionJob) => void;
  /** QR mode on the harness's table (absent: the deployment has none, `channel: "qr"` is 409). */
  qr?: (aws: AwsClients, tableName: string) => Promise<QrModePort>;
  /** The API's clock (statistics, handoffs); absent: the real one. */
  now?: () => Date;
  /**
   * The Graph API the message templates are read from (a simulator's `graphBaseUrl`, known once it
   * listens); absent: templates cannot be read (GET …/templates 500, setting a window_template 409).
   */
  graphBaseUrl?: () => string;
  /** The platform's WhatsApp token, for tenants without their own. */
  platformAccessToken?: string;
}) {
  let ipSeq = 0;
  let sourceIp = '';
  beforeEach(() => {
    ipSeq++;
    sourceIp = `10.${options.addressBlock}.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  });
  const secrets = createLocalSecretBox(options.secretKey ?? 'admin-api-harness-key');
  let built: AdminApiHarness | undefined;

  /** Builds it (call in beforeAll). */
  async function start(): Promise<AdminApiHarness> {
    const { aws, tableName } = await freshTable();
    const repository = new ClientRepository(aws.dynamo, tableName);
    const conversations = new ConversationStore(aws.dynamo, tableName);
    const stats = new DynamoStatsStore(aws.dynamo, tableName);
    const templates = options.graphBaseUrl
      ? new TenantTemplates({
          catalog: new TemplateCatalog({
            db: aws.dynamo,
            tableName,
            graphBaseUrl: options.graphBaseUrl(),
            graphVersion: 'v26.0',
            timeoutMs: 3_000,
          }),
          secrets,
          platformAccessToken: async () => options.platformAccessToken,
        })
      : undefined;
    const service = new ClientService({
      clients: repository,
      secrets,
      enqueueProvisioning: async (job) => {
        options.onProvision?.(job);
      },
      platformHasOpenAi: async () => false,
      defaultModel: 'gpt-5-mini',
      ...(options.qr ? { qr: await options.qr(aws, tableName) } : {}),
      ...(templates ? { windowTemplates: templates } : {}),
    });
    const handler = createAdminApiHandler(async () => ({
      service,
      conversations,
      purge: {
        clients: repository,
        store: new RetentionStore(aws.dynamo, tableName),
        secrets,
        openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
        platformOpenAiKey: async () => undefined,
      },
      stats,
      ...(templates ? { templates } : {}),
      operatorKey: options.operatorKey,
      ...(options.now ? { now: options.now } : {}),
      ...tenantApiDeps({ dynamo: aws.dynamo, tableName, service, secrets }),
    }));
    built = { aws, tableName, handler, repository, conversations, stats, service };
    return built;
  }

  async function call(method: string, path: string, callOptions: CallOptions = {}) {
    if (!built) throw new Error('adminApiHarness: start() it in beforeAll first');
    const { key, ...rest } = callOptions;
    const event = apiEvent(method, path, {
      ...rest,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(rest.headers ?? {}) },
    });
    event.requestContext.http.sourceIp = sourceIp;
    const res = await built.handler(event);
    const raw = res.body ?? '';
    const json = /json/.test(String(res.headers?.['content-type'] ?? 'application/json'));
    return { status: res.statusCode, body: json ? JSON.parse(raw || 'null') : null, raw };
  }
  const asOperator = (method: string, path: string, callOptions: CallOptions = {}) =>
    call(method, path, { key: options.operatorKey, ...callOptions });

  return { secrets, start, call, asOperator };
}
