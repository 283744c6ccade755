import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { shardMembershipKeys } from './shards.ts';

/**
 * The tenants of a QR shard, as the membership items (`QRSHARD#<shard>` / `CLIENT#<id>`) say: written
 * when a tenant switches to QR mode, deleted when it leaves. The runner holding the shard hosts
 * exactly these sessions.
 */
export class ShardMembers {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Whether one tenant is a member (one read of its membership item, not of the whole shard). */
  async has(shard: string, tenantId: string): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: shardMembershipKeys.member(shard, tenantId),
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    );
    return Item !== undefined;
  }

  async list(shard: string): Promise<string[]> {
    const members: string[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
          ExpressionAttributeValues: {
            ':pk': shardMembershipKeys.partition(shard),
            ':member': shardMembershipKeys.memberPrefix,
          },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
          ...(cursor ? { ExclusiveStartKey: cursor } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        members.push(String(item.sk).slice(shardMembershipKeys.memberPrefix.length));
      }
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return members;
  }
}
