import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

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
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const arn = env[`${name}_SECRET_ARN`];
  if (arn) {
    const value = await getSecret(arn, { maxAge: CACHE_SECONDS });
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  }
  const value = env[name];
  return value && value.length > 0 ? value : undefined;
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
