/**
 * The product's topology in one place: which functions exist, which HTTP routes and queues feed
 * them, and which schedules run. The CDK stack and the local stack both read it, and a test checks
 * that every route here is in the synthesized template and served locally.
 */

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  method: HttpMethod;
  path: string;
  /**
   * Who may call it: Meta (signature-checked), the operator (its bearer key), a tenant (a bearer key of
   * its own: the route acts on that tenant only), anyone (health; an invitation's holder, whose token
   * travels in the body).
   */
  auth: 'meta-signature' | 'operator-key' | 'tenant-key' | 'none';
}

export interface QueueSpec {
  /** Logical name; the local stack appends `.fifo` for FIFO queues. */
  name: string;
  fifo: boolean;
  /** Seconds a received message stays invisible; above the consumer's timeout. */
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** Environment variable through which functions learn the queue's URL. */
  urlEnv: string;
  /**
   * Producers delay single messages (`DelaySeconds` per message, up to this many seconds): only a
   * standard queue can, and its consumer must not expect order.
   */
  perMessageDelaySeconds?: number;
}

export type PlatformSecret =
  | 'META_APP_SECRET'
  | 'META_VERIFY_TOKEN'
  | 'WHATSAPP_ACCESS_TOKEN'
  | 'OPENAI_API_KEY'
  | 'OPERATOR_API_KEY';

export interface FunctionSpec {
  /** Entry file under functions/ (without extension). */
  entry: string;
  description: string;
  /** What the function may do with the table (least privilege: the CDK grants exactly this). */
  table: 'read' | 'read-write';
  /** Also reads items by key in batches (BatchGetItem): the webhook's route lookups. */
  tableBatchGet?: boolean;
  /**
   * Reads single items only (GetItem), and only under these partition-key patterns (IAM's
   * dynamodb:LeadingKeys): a public function reaches the few items it shows and nothing else.
   */
  tableLeadingKeys?: string[];
  /** Platform secrets it reads at cold start (Secrets Manager in AWS). */
  secrets: PlatformSecret[];
  /** What it does with tenant secrets (the KMS key). */
  tenantSecrets?: 'encrypt-decrypt' | 'decrypt';
  /** An EventBridge Scheduler schedule that invokes it (the local stack plays it with a timer). */
  schedule?: { expression: string; description: string };
  /**
   * What it does with the media bucket (S3, `MEDIA_BUCKET_NAME`), if anything: `read-add` reads and
   * writes objects but deletes none (the purge does).
   */
  media?: 'read' | 'read-add' | 'read-write';
  /**
   * QR mode (when the deployment has QR shards): `available` only learns that it is on
   * (`QR_COMMAND_QUEUE_URLS`, no grant); `send` puts commands on every shard's command queue;
   * `send-and-delete-sessions` also deletes tenants' stored sessions (`QR_SESSION_BUCKET`, `qr-sessions/*`).
   */
  qr?: 'available' | 'send' | 'send-and-delete-sessions';
  /** Sends e-mail through SES (`EMAIL_IDENTITY`, `SES_CONFIGURATION_SET`). */
  email?: boolean;
  routes?: RouteSpec[];
  /** The queue that triggers it. */
  consumes?: string;
  /** Queues it sends to. */
  sendsTo?: string[];
  timeoutSeconds: number;
  memoryMb: number;
  batchSize?: number;
  maxConcurrency?: number;
}

export const queues = {
  inbound: {
    name: 'inbound',
    fifo: true,
    visibilityTimeoutSeconds: 180,
    // Throttling (130429) and OpenAI outages are retried through redelivery: be generous before the DLQ.
    maxReceiveCount: 8,
    urlEnv: 'INBOUND_QUEUE_URL',
  },
  provision: {
    name: 'provision',
    fifo: false,
    visibilityTimeoutSeconds: 300,
    maxReceiveCount: 5,
    urlEnv: 'PROVISION_QUEUE_URL',
  },
  /** Wake-ups of reply bursts (the debounce), each delayed by its tenant's reply_delay_seconds. */
  replyBurst: {
    name: 'reply-burst',
    fifo: false,
    // Above the consumer's timeout and the claim lease (120 s), like the inbound queue: a wake-up
    // whose worker died comes back once its burst's claim can be taken over.
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 8,
    urlEnv: 'REPLY_BURST_QUEUE_URL',
    // reply_delay_seconds is at most 30 (and the cap 20): far below SQS's 900.
    perMessageDelaySeconds: 30,
  },
} as const satisfies Record<string, QueueSpec>;

/** What a function that answers customers needs and may take (the assistant and the burst consumer). */
const answersCustomers = {
  table: 'read-write',
  secrets: ['WHATSAPP_ACCESS_TOKEN', 'OPENAI_API_KEY'],
  tenantSecrets: 'decrypt',
  // A QR tenant's replies are `send` commands on its shard's command queue.
  qr: 'send',
  // OpenAI worst case ~50 s (3 attempts of 15 s plus backoff), then Graph sends with retries.
  timeoutSeconds: 90,
  memoryMb: 1024,
  // One record per invocation: records of a FIFO batch run one after another and OpenAI's worst
  // case (~50 s) leaves room for one only; a bigger batch would spend the later records' receives
  // (and dead-letter them) without answering. Parallelism comes from message groups instead:
  // up to maxConcurrency conversations at once.
  batchSize: 1,
  maxConcurrency: 50,
} satisfies Partial<FunctionSpec>;

export const functions = {
  webhook: {
    entry: 'webhook',
    description: 'Verifies, validates and routes Meta webhooks; enqueues messages',
    routes: [
      { method: 'GET', path: '/webhook', auth: 'meta-signature' },
      { method: 'POST', path: '/webhook', auth: 'meta-signature' },
    ],
    sendsTo: ['inbound'],
    table: 'read',
    // The numbers of a delivery (up to 30,000) are routed 100 per request.
    tableBatchGet: true,
    secrets: ['META_APP_SECRET', 'META_VERIFY_TOKEN'],
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  adminApi: {
    entry: 'admin-api',
    description: "The operator's and the tenants' API: clients, keys, invitations, conversations, statistics",
    routes: [
      { method: 'GET', path: '/health', auth: 'none' },
      { method: 'POST', path: '/clients', auth: 'operator-key' },
      { method: 'GET', path: '/clients', auth: 'operator-key' },
      { method: 'GET', path: '/clients/{id}', auth: 'operator-key' },
      { method: 'PATCH', path: '/clients/{id}', auth: 'operator-key' },
      { method: 'DELETE', path: '/clients/{id}', auth: 'operator-key' },
      { method: 'GET', path: '/clients/{id}/conversations', auth: 'operator-key' },
      { method: 'GET', path: '/clients/{id}/conversations/{contact}/messages', auth: 'operator-key' },
      { method: 'DELETE', path: '/clients/{id}/conversations/{contact}', auth: 'operator-key' },
      { method: 'POST', path: '/clients/{id}/conversations/{contact}/handoff', auth: 'operator-key' },
      { method: 'DELETE', path: '/clients/{id}/conversations/{contact}/handoff', auth: 'operator-key' },
      { method: 'POST', path: '/admin/purge', auth: 'operator-key' },
      { method: 'GET', path: '/admin/purges', auth: 'operator-key' },
      { method: 'GET', path: '/admin/stats', auth: 'operator-key' },
      { method: 'GET', path: '/admin/stats/daily', auth: 'operator-key' },
      { method: 'GET', path: '/admin/stats/chart.svg', auth: 'operator-key' },
      { method: 'POST', path: '/clients/{id}/api-keys', auth: 'operator-key' },
      { method: 'GET', path: '/clients/{id}/api-keys', auth: 'operator-key' },
      { method: 'DELETE', path: '/clients/{id}/api-keys/{key_id}', auth: 'operator-key' },
      { method: 'POST', path: '/clients/{id}/invitation', auth: 'operator-key' },
      { method: 'POST', path: '/clients/{id}/test-connection', auth: 'operator-key' },
      { method: 'GET', path: '/clients/{id}/templates', auth: 'operator-key' },
      { method: 'POST', path: '/clients/{id}/qr/start', auth: 'operator-key' },
      { method: 'POST', path: '/clients/{id}/qr/unlink', auth: 'operator-key' },
      { method: 'POST', path: '/invitations/accept', auth: 'none' },
      // The web pages' sign-in: a key for a session cookie (checked by the handler itself).
      { method: 'POST', path: '/web/sessions', auth: 'none' },
      { method: 'GET', path: '/web/session', auth: 'none' },
      { method: 'DELETE', path: '/web/session', auth: 'none' },
      { method: 'GET', path: '/tenant', auth: 'tenant-key' },
      { method: 'PATCH', path: '/tenant', auth: 'tenant-key' },
      { method: 'POST', path: '/tenant/api-keys', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/api-keys', auth: 'tenant-key' },
      { method: 'DELETE', path: '/tenant/api-keys/{key_id}', auth: 'tenant-key' },
      { method: 'POST', path: '/tenant/test-connection', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/templates', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/qr', auth: 'tenant-key' },
      { method: 'POST', path: '/tenant/qr/start', auth: 'tenant-key' },
      { method: 'POST', path: '/tenant/qr/unlink', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/conversations', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/conversations/{contact}/messages', auth: 'tenant-key' },
      { method: 'DELETE', path: '/tenant/conversations/{contact}', auth: 'tenant-key' },
      { method: 'POST', path: '/tenant/conversations/{contact}/handoff', auth: 'tenant-key' },
      { method: 'DELETE', path: '/tenant/conversations/{contact}/handoff', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/stats/daily', auth: 'tenant-key' },
      { method: 'GET', path: '/tenant/stats/chart.svg', auth: 'tenant-key' },
    ],
    sendsTo: ['provision'],
    table: 'read-write',
    // The test connection reads the App Secret (debug_token) and the platform's WhatsApp token
    // (tenants without their own).
    secrets: ['OPERATOR_API_KEY', 'OPENAI_API_KEY', 'META_APP_SECRET', 'WHATSAPP_ACCESS_TOKEN'],
    tenantSecrets: 'encrypt-decrypt',
    media: 'read-write',
    // Start, stop and unlink commands; a tenant leaving QR mode has its stored session deleted.
    qr: 'send-and-delete-sessions',
    // Invitations (SES v2 SendEmail).
    email: true,
    // A forced purge runs inside the request with a 20 s budget (API Gateway allows 30 s).
    timeoutSeconds: 29,
    memoryMb: 512,
  },
  web: {
    entry: 'web',
    description: "The web pages: tenants' landing pages, the operator console, the API docs",
    // Shows the QR panel only where QR mode is on (the queue URLs, no grant on them).
    qr: 'available',
    routes: [
      { method: 'GET', path: '/client/{slug}', auth: 'none' },
      { method: 'GET', path: '/client/{slug}/status', auth: 'none' },
      // A QR tenant's QR panel, for its own browser session (checked by the handler itself).
      { method: 'GET', path: '/client/{slug}/qr', auth: 'none' },
      { method: 'GET', path: '/console', auth: 'none' },
      { method: 'GET', path: '/web/assets/{hash}/{name}', auth: 'none' },
      { method: 'GET', path: '/openapi.json', auth: 'none' },
      { method: 'GET', path: '/docs', auth: 'none' },
    ],
    // Pages read a client by its landing slug (two GetItems); the QR panel also reads the browser
    // session, the key behind it and the tenant's QR status (GetItems); everything else goes through
    // the admin API.
    table: 'read',
    tableLeadingKeys: ['SLUG#*', 'CLIENT#*', 'SESSION#*', 'APIKEY#*'],
    secrets: [],
    timeoutSeconds: 10,
    memoryMb: 256,
  },
  assistant: {
    entry: 'assistant',
    description: 'Answers queued customer messages exactly once',
    consumes: 'inbound',
    // A message that joins its contact's reply burst schedules the burst's wake-up.
    sendsTo: ['replyBurst'],
    ...answersCustomers,
    // Customers' media, taken in before a message joins a burst: downloaded from the Graph API and
    // kept, or read where a QR runner kept it (the burst consumer answers text only).
    media: 'read-add',
  },
  replyBurst: {
    entry: 'reply-burst',
    description: "Answers each customer's burst of messages once, after the tenant's reply delay",
    consumes: 'replyBurst',
    // Messages that joined a burst while it was answered get a wake-up of their own.
    sendsTo: ['replyBurst'],
    ...answersCustomers,
  },
  provisioner: {
    entry: 'provisioner',
    description: "Builds each tenant's assistant (vector store of its FAQs)",
    consumes: 'provision',
    table: 'read-write',
    secrets: ['OPENAI_API_KEY'],
    tenantSecrets: 'decrypt',
    // Upload, store creation and an indexing wait of up to 2 minutes, with a minute to clean up.
    timeoutSeconds: 240,
    memoryMb: 512,
    batchSize: 1,
    maxConcurrency: 5,
  },
  purge: {
    entry: 'purge',
    description: "Deletes data past each tenant's retention, and everything of clients deleted 30+ days ago",
    table: 'read-write',
    secrets: ['OPENAI_API_KEY'],
    tenantSecrets: 'decrypt',
    media: 'read-write',
    schedule: { expression: 'rate(1 day)', description: 'Daily retention purge' },
    timeoutSeconds: 900,
    memoryMb: 512,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof functions;

/** Every HTTP route with the function serving it. */
export function allRoutes(): Array<RouteSpec & { fn: FunctionName }> {
  return Object.entries(functions).flatMap(([fn, spec]) =>
    ((spec as FunctionSpec).routes ?? []).map((route) => ({ ...route, fn: fn as FunctionName })),
  );
}
