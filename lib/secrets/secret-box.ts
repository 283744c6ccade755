import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';

/**
 * Encrypts tenant secrets (WhatsApp tokens, OpenAI keys) before they are stored. In AWS a KMS key
 * does it; locally an AES-256-GCM key does, behind the same interface. Ciphertexts carry a prefix
 * naming the scheme so a value is never decrypted with the wrong one.
 */
export interface SecretBox {
  encrypt(plaintext: string, context: { tenantId: string }): Promise<string>;
  decrypt(ciphertext: string, context: { tenantId: string }): Promise<string>;
}

const LOCAL_PREFIX = 'local:v1:';
const KMS_PREFIX = 'kms:v1:';

/** AES-256-GCM with the tenant id as additional authenticated data (a value cannot move tenants). */
export function createLocalSecretBox(key: string | Buffer): SecretBox {
  const keyBytes = typeof key === 'string' ? createHash('sha256').update(key).digest() : key;
  if (keyBytes.length !== 32) throw new Error('the local secret key must be 32 bytes');
  return {
    async encrypt(plaintext, { tenantId }) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyBytes, iv);
      cipher.setAAD(Buffer.from(tenantId));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return LOCAL_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    async decrypt(ciphertext, { tenantId }) {
      if (!ciphertext.startsWith(LOCAL_PREFIX)) throw new Error('not a local ciphertext');
      const raw = Buffer.from(ciphertext.slice(LOCAL_PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', keyBytes, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(tenantId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

/** KMS envelope-free encryption (secrets are small) with the tenant id as encryption context. */
export function createKmsSecretBox(kms: KMSClient, keyId: string): SecretBox {
  return {
    async encrypt(plaintext, { tenantId }) {
      const out = await kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: Buffer.from(plaintext, 'utf8'),
          EncryptionContext: { tenant_id: tenantId },
        }),
      );
      if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
      return KMS_PREFIX + Buffer.from(out.CiphertextBlob).toString('base64');
    },
    async decrypt(ciphertext, { tenantId }) {
      if (!ciphertext.startsWith(KMS_PREFIX)) throw new Error('not a KMS ciphertext');
      const out = await kms.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(ciphertext.slice(KMS_PREFIX.length), 'base64'),
          EncryptionContext: { tenant_id: tenantId },
        }),
      );
      if (!out.Plaintext) throw new Error('KMS returned no plaintext');
      return Buffer.from(out.Plaintext).toString('utf8');
    },
  };
}
