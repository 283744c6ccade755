import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { MediaQuota } from '../conversation/media-ports.ts';
import { expiresAfterHours } from '../storage/table.ts';
import { cancellationCodes, retryOnTransactionConflict } from '../storage/transactions.ts';
import { clientKeys } from '../tenants/client.ts';

/**
 * The per-tenant daily cap of media processing in DynamoDB, in the tenant's own partition: a counter
 * per UTC day (`MEDIA_DAY#<day>`) and a marker per message (`MEDIA_USE#<day>#<wamid>`), written in
 * one transaction. The counter only moves while it is below the limit; the marker makes a retry of
 * the same message free (it took its unit already). Both expire two days later.
 */
const KEEP_HOURS = 48;

export const mediaQuotaKeys = {
  day: (tenantId: string, day: string) => ({ pk: clientKeys.profile(tenantId).pk, sk: `MEDIA_DAY#${day}` }),
  use: (tenantId: string, day: string, messageId: string) => ({
    pk: clientKeys.profile(tenantId).pk,
    sk: `MEDIA_USE#${day}#${messageId}`,
  }),
};

export class DynamoMediaQuota implements MediaQuota {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async take(tenantId: string, messageId: string, day: string, limit: number): Promise<boolean> {
    const expires = expiresAfterHours(KEEP_HOURS, this.now());
    try {
      await retryOnTransactionConflict('the media quota', () =>
        this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    ...mediaQuotaKeys.use(tenantId, day, messageId),
                    item_type: 'media_use',
                    expires_at: expires,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: mediaQuotaKeys.day(tenantId, day),
                  UpdateExpression: 'ADD used :one SET item_type = :type, expires_at = :expires',
                  ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
                  ExpressionAttributeValues: {
                    ':one': 1,
                    ':limit': limit,
                    ':type': 'media_day',
                    ':expires': expires,
                  },
                },
              },
            ],
          }),
        ),
      );
      return true;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      // This message took its unit before (a redelivery): it may go on.
      if (codes[0] === 'ConditionalCheckFailed') return true;
      if (codes[1] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }
}
