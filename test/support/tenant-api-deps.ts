import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AdminApiDeps } from '../../lib/admin-api/deps.ts';
import { DynamoFailedAuthLimiter } from '../../lib/admin-api/failed-auth-limiter.ts';
import type { Mailer } from '../../lib/email/mailer.ts';
import type { SecretBox } from '../../lib/secrets/secret-box.ts';
import { ApiKeyRepository } from '../../lib/tenants/api-key-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { testClientConnection } from '../../lib/tenants/connection-test.ts';
import { InvitationRepository } from '../../lib/tenants/invitation-repository.ts';
import { Onboarding } from '../../lib/tenants/onboarding.ts';
import { SessionStore } from '../../lib/web/session-store.ts';

export const TEST_PUBLIC_BASE_URL = 'https://wa.example.test';

/**
 * The tenant half of the admin API's dependencies, on the given table: keys, invitations (sent with
 * `mailer`, or "not configured"), the connection test against `graphBaseUrl`, the failed-auth limiter.
 */
export function tenantApiDeps(options: {
  dynamo: DynamoDBDocumentClient;
  tableName: string;
  service: ClientService;
  secrets: SecretBox;
  mailer?: Mailer;
  graphBaseUrl?: string;
  openaiBaseUrl?: string;
  platformAccessToken?: string;
  metaAppId?: string;
  appSecret?: string;
  authFailureLimit?: number;
  publicBaseUrl?: string;
}): Pick<
  AdminApiDeps,
  'apiKeys' | 'onboarding' | 'testConnection' | 'authFailures' | 'publicBaseUrl' | 'sessions'
> {
  const apiKeys = new ApiKeyRepository(options.dynamo, options.tableName, { environment: 'test' });
  const publicBaseUrl = options.publicBaseUrl ?? TEST_PUBLIC_BASE_URL;
  return {
    apiKeys,
    publicBaseUrl,
    sessions: new SessionStore(options.dynamo, options.tableName),
    authFailures: new DynamoFailedAuthLimiter(options.dynamo, options.tableName, {
      ...(options.authFailureLimit !== undefined ? { limit: options.authFailureLimit } : {}),
    }),
    onboarding: new Onboarding({
      clients: options.service,
      invitations: new InvitationRepository(options.dynamo, options.tableName),
      apiKeys,
      mail: options.mailer
        ? { mailer: options.mailer }
        : { unavailable: 'e-mail is not configured in this test' },
      publicBaseUrl,
    }),
    testConnection: (client) =>
      testClientConnection(client, {
        secrets: options.secrets,
        platformAccessToken: async () => options.platformAccessToken,
        appSecret: async () => options.appSecret,
        metaAppId: options.metaAppId,
        graphBaseUrl: options.graphBaseUrl ?? 'http://127.0.0.1:9',
        graphVersion: 'v26.0',
        ...(options.openaiBaseUrl ? { openaiBaseUrl: options.openaiBaseUrl } : {}),
        timeoutMs: 3_000,
      }),
  };
}
