import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../../storage/table.ts';
import { clientKeys } from '../../tenants/client.ts';

/** How long a command id is remembered after its expiry (a redelivery comes well before). */
const REMEMBERED_AFTER_EXPIRY_S = 24 * 3600;

export const commandLedgerKeys = {
  command: (tenantId: string, commandId: string) => ({
    pk: clientKeys.profile(tenantId).pk,
    sk: `QRCMD#${commandId}`,
  }),
};

/**
 * The commands a runner has acted on, by id, in the tenant's partition (so the tenant's purge takes
 * them): a command queue is a standard SQS queue and may deliver a command twice, or to the next
 * owner of the shard after a crash. A `send` is claimed right before it is sent and never sent
 * again: a crash between claim and send loses that reply rather than sending it twice.
 */
export class CommandLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** True when the command was not seen before (and is now ours to act on). */
  async claim(
    tenantId: string,
    commandId: string,
    expiresAt: Date,
    now: Date = new Date(),
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...commandLedgerKeys.command(tenantId, commandId),
            item_type: 'qr_command',
            claimed_at: now.toISOString(),
            expires_at: Math.floor(expiresAt.getTime() / 1000) + REMEMBERED_AFTER_EXPIRY_S,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Gives a claim back when the command was not acted on after all (the session was not ready). */
  async release(tenantId: string, commandId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: commandLedgerKeys.command(tenantId, commandId) }),
    );
  }
}
