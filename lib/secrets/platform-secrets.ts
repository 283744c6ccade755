import { GetParameterError } from '@aws-lambda-powertools/parameters';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { secretSource } from '../config.ts';

/**
 * Platform secrets: the Meta App Secret and verify token, the platform WhatsApp token, the platform
 * OpenAI key and the operator key. In AWS the environment holds `<NAME>_SECRET_ARN` and the value is
 * read from Secrets Manager with Powertools' cache; locally the value is in the environment itself.
 */
export type PlatformSecretName =
  | 'META_APP_SECRET'
  | 'META_VERIFY_TOKEN'
  | 'WHATSAPP_ACCESS_TOKEN'
  | 'OPENAI_API_KEY'
  | 'OPERATOR_API_KEY';

const CACHE_SECONDS = 300;

export async function readPlatformSecret(
  name: PlatformSecretName,
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const { arn, value } = secretSource(name, env);
  if (arn) {
    try {
      const value = await getSecret(arn, { maxAge: CACHE_SECONDS });
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    } catch (error) {
      // A secret created without a value (the operator has not filled it yet) is "not configured":
      // e.g. no platform OpenAI key means the offline FAQ responder, not a broken cold start.
      if (
        error instanceof GetParameterError &&
        (error.cause as { name?: string })?.name === 'ResourceNotFoundException'
      ) {
        return undefined;
      }
      throw error;
    }
  }
  return value;
}

/** Like readPlatformSecret, but the deployment cannot work without it. */
export async function requirePlatformSecret(
  name: PlatformSecretName,
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const value = await readPlatformSecret(name, env);
  if (!value) throw new Error(`${name} is not configured`);
  return value;
}
