import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../errors.ts';
import { isConditionFailure, queryPages, tableDesign } from '../storage/table.ts';
import { type AssistantRecord, type Client, clientKeys } from './client.ts';

/** Where a phone_number_id routes: the owning client and whether it is active. */
export interface PhoneRoute {
  client_id: string;
  active: boolean;
}

/** The profile changed since it was read (optimistic check on `updated_at`): read again and retry. */
export class ConcurrentChangeError extends ConflictError {
  constructor() {
    super('the client was changed by another request; read it again and retry');
  }
}

const PROFILE_ONLY = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'item_type']);

function fromItem(item: Record<string, unknown>): Client {
  const client: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) if (!PROFILE_ONLY.has(key)) client[key] = value;
  return client as unknown as Client;
}

function profileItem(client: Client) {
  return {
    ...clientKeys.profile(client.id),
    item_type: 'client',
    gsi1pk: clientKeys.listPartition,
    gsi1sk: `${client.created_at}#${client.id}`,
    ...client,
  };
}

function routeItem(client: Pick<Client, 'id' | 'phone_number_id' | 'active'>) {
  return {
    ...clientKeys.phoneRoute(client.phone_number_id),
    item_type: 'phone_route',
    client_id: client.id,
    active: client.active,
  };
}

/**
 * Clients (tenants) in DynamoDB. A client is two items: its profile and the route of its
 * phone_number_id; both are written in one transaction so a number belongs to one active client.
 */
export class ClientRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores a new client; ConflictError when its number already belongs to an active client. */
  async create(client: Client): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: profileItem(client),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: routeItem(client),
                ConditionExpression: 'attribute_not_exists(pk) OR active = :false OR client_id = :id',
                ExpressionAttributeValues: { ':false': false, ':id': client.id },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          `phone_number_id ${client.phone_number_id} already belongs to an active client`,
        );
      }
      throw error;
    }
  }

  async get(clientId: string): Promise<Client | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: clientKeys.profile(clientId), ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async require(clientId: string): Promise<Client> {
    const client = await this.get(clientId);
    if (!client) throw new NotFoundError(`client ${clientId} not found`);
    return client;
  }

  /** Every client, oldest first (paged internally; the operator's list is small). */
  async list(options: { activeOnly: boolean }): Promise<Client[]> {
    const clients: Client[] = [];
    const pages = queryPages(this.db, {
      TableName: this.tableName,
      IndexName: tableDesign.listIndex.name,
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': clientKeys.listPartition },
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const client = fromItem(item);
        if (!options.activeOnly || client.active) clients.push(client);
      }
    }
    return clients;
  }

  async findRoute(
    phoneNumberId: string,
    options: { consistent?: boolean } = {},
  ): Promise<PhoneRoute | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: clientKeys.phoneRoute(phoneNumberId),
        ConsistentRead: options.consistent === true,
      }),
    );
    if (!Item || typeof Item.client_id !== 'string') return undefined;
    return { client_id: Item.client_id, active: Item.active === true };
  }

  /**
   * Replaces a client's profile with `next` (optimistic: only if `previous.updated_at` is still
   * current) and moves or updates its phone route in the same transaction.
   */
  async replace(previous: Client, next: Client): Promise<void> {
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.tableName,
          Item: profileItem(next),
          ConditionExpression: 'updated_at = :seen',
          ExpressionAttributeValues: { ':seen': previous.updated_at },
        },
      },
    ];
    if (previous.phone_number_id !== next.phone_number_id) {
      items.push({
        Delete: {
          TableName: this.tableName,
          Key: clientKeys.phoneRoute(previous.phone_number_id),
          ConditionExpression: 'attribute_not_exists(pk) OR client_id = :id',
          ExpressionAttributeValues: { ':id': previous.id },
        },
      });
    }
    items.push({
      Put: {
        TableName: this.tableName,
        Item: routeItem(next),
        ConditionExpression: next.active
          ? 'attribute_not_exists(pk) OR active = :false OR client_id = :id'
          : 'attribute_not_exists(pk) OR client_id = :id',
        ExpressionAttributeValues: next.active ? { ':false': false, ':id': next.id } : { ':id': next.id },
      },
    });
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') throw new ConcurrentChangeError();
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) {
          throw new ConflictError(
            `phone_number_id ${next.phone_number_id} already belongs to an active client`,
          );
        }
      }
      throw error;
    }
  }

  /** Updates a few top-level attributes without touching the rest (used by the worker). */
  async patch(
    clientId: string,
    values: Partial<Client>,
    options: {
      onlyIfAssistantVersion?: number;
      /** Only while this is the stored token ciphertext (null: while no tenant token is stored). */
      onlyIfTokenCiphertext?: string | null;
      /** Only while this is the assistant's vector store (null: while it has none). */
      onlyIfVectorStore?: string | null;
    } = {},
  ) {
    const names: Record<string, string> = {};
    const exprValues: Record<string, unknown> = {};
    const sets: string[] = [];
    // Bumping updated_at makes a concurrent admin PATCH (optimistic on updated_at) retry, not overwrite.
    const withStamp = { updated_at: new Date().toISOString(), ...values };
    for (const [index, [key, value]] of Object.entries(withStamp).entries()) {
      names[`#a${index}`] = key;
      exprValues[`:v${index}`] = value;
      sets.push(`#a${index} = :v${index}`);
    }
    let condition = 'attribute_exists(pk)';
    if (options.onlyIfAssistantVersion !== undefined) {
      condition += ' AND assistant.version = :version';
      exprValues[':version'] = options.onlyIfAssistantVersion;
    }
    if (options.onlyIfVectorStore === null) {
      condition += ' AND attribute_not_exists(assistant.vector_store_id)';
    } else if (options.onlyIfVectorStore !== undefined) {
      condition += ' AND assistant.vector_store_id = :store';
      exprValues[':store'] = options.onlyIfVectorStore;
    }
    if (options.onlyIfTokenCiphertext === null) {
      condition += ' AND attribute_not_exists(whatsapp_access_token_enc)';
    } else if (options.onlyIfTokenCiphertext !== undefined) {
      condition += ' AND whatsapp_access_token_enc = :token';
      exprValues[':token'] = options.onlyIfTokenCiphertext;
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clientKeys.profile(clientId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: exprValues,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Sets the assistant record unless a newer version has been built meanwhile, or (with
   * `replacingVectorStore`) unless another build already replaced the vector store it started from.
   */
  async setAssistant(
    clientId: string,
    assistant: AssistantRecord,
    options: { replacingVectorStore?: string | null } = {},
  ): Promise<boolean> {
    return this.patch(
      clientId,
      { assistant },
      {
        onlyIfAssistantVersion: assistant.version,
        ...(options.replacingVectorStore !== undefined
          ? { onlyIfVectorStore: options.replacingVectorStore }
          : {}),
      },
    );
  }
}
