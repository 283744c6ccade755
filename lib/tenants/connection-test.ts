import type { SecretBox } from '../secrets/secret-box.ts';
import {
  type ConnectionCheckDeps,
  type ConnectionCheckResult,
  runConnectionChecks,
} from '../whatsapp/connection-checks.ts';
import type { Client, ConnectionTestRecord } from './client.ts';

/**
 * A tenant's "test connection" with what it has: its own WhatsApp token (else the platform's, which
 * it is sending with), its WABA id, its own OpenAI key, and the platform's Meta app for debug_token.
 */
export interface ConnectionTestDeps extends ConnectionCheckDeps {
  secrets: SecretBox;
  /** The platform's WhatsApp token, used for tenants without their own. */
  platformAccessToken(): Promise<string | undefined>;
  /** The platform's App Secret (with `metaAppId`, the debug_token check). */
  appSecret(): Promise<string | undefined>;
  metaAppId?: string | undefined;
}

export async function testClientConnection(
  client: Client,
  deps: ConnectionTestDeps,
): Promise<ConnectionCheckResult> {
  const tenant = { tenantId: client.id };
  const [ownToken, openaiApiKey, appSecret] = await Promise.all([
    client.whatsapp_access_token_enc
      ? deps.secrets.decrypt(client.whatsapp_access_token_enc, tenant)
      : undefined,
    client.openai_api_key_enc ? deps.secrets.decrypt(client.openai_api_key_enc, tenant) : undefined,
    deps.metaAppId ? deps.appSecret() : undefined,
  ]);
  const accessToken = ownToken ?? (await deps.platformAccessToken());
  if (!accessToken) {
    return {
      ok: false,
      checks: [
        {
          name: 'phone_number',
          ok: false,
          detail: 'No WhatsApp access token is set: add your Cloud API access token (whatsapp_access_token).',
        },
      ],
    };
  }
  return runConnectionChecks(
    {
      phoneNumberId: client.phone_number_id,
      accessToken,
      // Only with the tenant's own token: with the platform's, any WABA id would probe other businesses.
      ...(client.waba_id && ownToken ? { wabaId: client.waba_id } : {}),
      ...(openaiApiKey ? { openaiApiKey } : {}),
      ...(deps.metaAppId && appSecret ? { metaAppId: deps.metaAppId, appSecret } : {}),
    },
    deps,
  );
}

/** What is kept of a test on the client: when, whether it passed, which checks failed. */
export function connectionTestRecord(result: ConnectionCheckResult, now: Date): ConnectionTestRecord {
  return {
    ok: result.ok,
    checked_at: now.toISOString(),
    failed: result.checks.filter((check) => !check.ok).map((check) => check.name),
  };
}
