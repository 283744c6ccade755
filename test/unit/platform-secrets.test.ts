import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { readPlatformSecret, requirePlatformSecret } from '../../lib/secrets/platform-secrets.ts';

const secrets = mockClient(SecretsManagerClient);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}-${Math.random()}`;

afterEach(() => secrets.reset());

describe('platform secrets', () => {
  it('given a secret ARN, then the value comes from Secrets Manager', async () => {
    const id = arn('openai');
    secrets.on(GetSecretValueCommand, { SecretId: id }).resolves({ SecretString: 'sk-platform' });
    expect(await readPlatformSecret('OPENAI_API_KEY', { OPENAI_API_KEY_SECRET_ARN: id })).toBe('sk-platform');
  });

  it('given a secret the operator has not filled yet, then it is "not configured", not a failure', async () => {
    const id = arn('openai-empty');
    secrets.on(GetSecretValueCommand, { SecretId: id }).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret value",
        $metadata: {},
      }),
    );
    expect(await readPlatformSecret('OPENAI_API_KEY', { OPENAI_API_KEY_SECRET_ARN: id })).toBeUndefined();
    await expect(requirePlatformSecret('OPENAI_API_KEY', { OPENAI_API_KEY_SECRET_ARN: id })).rejects.toThrow(
      'not configured',
    );
  });

  it('given access denied, then it fails loudly (a deployment bug, not a missing value)', async () => {
    const id = arn('denied');
    secrets
      .on(GetSecretValueCommand, { SecretId: id })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(readPlatformSecret('META_APP_SECRET', { META_APP_SECRET_SECRET_ARN: id })).rejects.toThrow();
  });

  it('given no ARN, then the plain variable is used (local stack and tests)', async () => {
    expect(await readPlatformSecret('OPERATOR_API_KEY', { OPERATOR_API_KEY: 'op_local' })).toBe('op_local');
    expect(await readPlatformSecret('OPERATOR_API_KEY', {})).toBeUndefined();
  });
});
