import type { ConversationStore } from '../conversation/conversation-store.ts';
import type { FlushableTelemetry } from '../observability/telemetry.ts';
import type { PurgeDeps } from '../retention/purge.ts';
import type { StatsReader } from '../stats/dynamo-stats-store.ts';
import type { TenantTemplates } from '../templates/tenant-templates.ts';
import type { ApiKeyRepository } from '../tenants/api-key-repository.ts';
import type { Client } from '../tenants/client.ts';
import type { ClientService } from '../tenants/client-service.ts';
import type { Onboarding } from '../tenants/onboarding.ts';
import type { SessionStore } from '../web/session-store.ts';
import type { ConnectionCheckResult } from '../whatsapp/connection-checks.ts';
import type { FailedAuthCounter } from './failed-auth-limiter.ts';

/** What the admin API's routes work with (production builds it in functions/admin-api.ts). */
export interface AdminApiDeps {
  service: ClientService;
  conversations: ConversationStore;
  purge: PurgeDeps;
  /**
   * The per-tenant statistics of GET /admin/stats. Optional only so that deps built for the other
   * routes (tests) need not build it; production always has it, and without it the route fails (500).
   */
  stats?: StatsReader;
  operatorKey: string;
  apiKeys: ApiKeyRepository;
  onboarding: Onboarding;
  /** Runs a client's connection test (Graph and OpenAI reads). */
  testConnection(client: Client): Promise<ConnectionCheckResult>;
  authFailures: FailedAuthCounter;
  /** The clients' message templates (GET …/templates); production always has it. */
  templates?: Pick<TenantTemplates, 'list'>;
  /** Browser sessions of the web pages (a cookie instead of a bearer key). */
  sessions: SessionStore;
  /** The deployment's public URL: landing links in the views. */
  publicBaseUrl?: string | undefined;
  /** The clock of the statistics window and of the handoffs (tests fix it). */
  now?: () => Date;
  /** Where a forced purge's counts go (EMF as the `purge` service in production); flushed after it. */
  purgeTelemetry?: FlushableTelemetry;
}
