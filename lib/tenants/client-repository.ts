import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, clipped, NotFoundError, PayloadTooLargeError, TransientError } from '../errors.ts';
import { qrStatusKeys } from '../qr/qr-status-store.ts';
import { shardMembershipKeys } from '../qr/shards.ts';
import {
  dynamoLimits,
  isConditionFailure,
  isStorableKey,
  itemSizeBytes,
  queryPages,
  tableDesign,
} from '../storage/table.ts';
import { type AssistantRecord, type Client, clientKeys } from './client.ts';

/** Where a phone_number_id routes: the owning client and whether it is active. */
export interface PhoneRoute {
  client_id: string;
  active: boolean;
}

/** Keys one BatchGetItem request may ask for (DynamoDB's limit). */
export const ROUTES_PER_BATCH = 100;
/**
 * Requests per batch of route keys: the first and up to 4 more for the keys DynamoDB left
 * unprocessed (throttling), after 25, 50, 100 and 200 ms at most (full jitter): a batch gives up
 * within ~0.4 s of sleeping, so a throttled delivery is answered 503 (Meta retries) well within the
 * webhook's 10 s rather than timing out.
 */
const ROUTE_BATCH_ATTEMPTS = 5;
const ROUTE_BATCH_BACKOFF_MS = 25;

/** The profile changed since it was read (optimistic check on `updated_at`): read again and retry. */
export class ConcurrentChangeError extends ConflictError {
  constructor() {
    super('the client was changed by another request; read it again and retry');
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A route write of a transaction; `conflict` when its failed condition means the number is taken. */
interface RouteWrite {
  item: TransactItem;
  conflict?: string;
}

/** What a failed claim of the number means, in the words of the change that claimed it. */
function claimConflict(previous: Client, next: Client): string {
  const number = next.phone_number_id;
  if (previous.phone_number_id !== number)
    return `phone_number_id ${number} already belongs to an active client`;
  if (!previous.active) {
    return `cannot reactivate the client: its phone_number_id ${number} now belongs to another active client; reactivate it with another phone_number_id`;
  }
  return `phone_number_id ${number} belongs to another active client`;
}

const PROFILE_ONLY = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'item_type']);

function fromItem(item: Record<string, unknown>): Client {
  const client: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) if (!PROFILE_ONLY.has(key)) client[key] = value;
  return client as unknown as Client;
}

function slugItem(client: Client) {
  return { ...clientKeys.slugLookup(client.slug), item_type: 'slug_lookup', client_id: client.id };
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

/**
 * The profile is one item: refuse (413) what DynamoDB would refuse (a 500). The schemas' limits keep
 * every accepted client well below it; this names the cause should a record still outgrow it.
 */
function assertProfileFits(client: Client) {
  const bytes = itemSizeBytes(profileItem(client));
  if (bytes > dynamoLimits.itemBytes) {
    throw new PayloadTooLargeError(
      `the client record would take ${bytes} bytes, more than the ${dynamoLimits.itemBytes} a record holds: shorten faqs`,
      [{ field: 'faqs', message: 'the client record is too large' }],
    );
  }
}

function routeItem(client: Pick<Client, 'id' | 'phone_number_id' | 'active'>) {
  return {
    ...clientKeys.phoneRoute(client.phone_number_id),
    item_type: 'phone_route',
    client_id: client.id,
    active: client.active,
  };
}

/** The shard whose member the client is: an active QR-mode client with a shard; else undefined. */
export function qrMembershipOf(client: Client | undefined): string | undefined {
  if (client?.channel !== 'qr' || !client.active) return undefined;
  return client.qr_shard;
}

/**
 * The QR writes of a change, beside the profile's: the shard membership item (`QRSHARD#<shard>` /
 * `CLIENT#<id>`) exists exactly while the client is an active QR-mode client of that shard (the
 * runner learns its tenants from them), and leaving QR mode drops the runner's last status.
 */
function qrWrites(tableName: string, previous: Client | undefined, next: Client): TransactItem[] {
  const was = qrMembershipOf(previous);
  const is = qrMembershipOf(next);
  const writes: TransactItem[] = [];
  if (was !== undefined && was !== is) {
    writes.push({ Delete: { TableName: tableName, Key: shardMembershipKeys.member(was, next.id) } });
  }
  if (is !== undefined && is !== was) {
    writes.push({
      Put: {
        TableName: tableName,
        Item: {
          ...shardMembershipKeys.member(is, next.id),
          item_type: 'qr_shard_member',
          client_id: next.id,
          added_at: next.updated_at,
        },
      },
    });
  }
  if (previous?.channel === 'qr' && next.channel !== 'qr') {
    writes.push({ Delete: { TableName: tableName, Key: qrStatusKeys.status(next.id) } });
  }
  return writes;
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
    assertProfileFits(client);
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
            { Put: { TableName: this.tableName, Item: slugItem(client) } },
            ...qrWrites(this.tableName, undefined, client),
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
    const key = clientKeys.profile(clientId);
    // An id too long for a key names no client (and DynamoDB would refuse the read).
    if (!isStorableKey(key)) return undefined;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  /** The client a landing slug names, or undefined (unknown, malformed or erased). */
  async findBySlug(slug: string): Promise<Client | undefined> {
    const key = clientKeys.slugLookup(slug);
    if (!isStorableKey(key)) return undefined;
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key }));
    if (typeof Item?.client_id !== 'string') return undefined;
    const client = await this.get(Item.client_id);
    return client?.slug === slug ? client : undefined;
  }

  /** Writes the slug lookup of a client stored before lookups existed (idempotent). */
  async ensureSlugLookup(client: Client): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: slugItem(client) }));
  }

  async require(clientId: string): Promise<Client> {
    const client = await this.get(clientId);
    if (!client) throw new NotFoundError(`client ${clipped(clientId)} not found`);
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
    const key = clientKeys.phoneRoute(phoneNumberId);
    if (!isStorableKey(key)) return undefined;
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: options.consistent === true,
      }),
    );
    if (!Item || typeof Item.client_id !== 'string') return undefined;
    return { client_id: Item.client_id, active: Item.active === true };
  }

  /**
   * The routes of many numbers at once (BatchGetItem, ROUTES_PER_BATCH keys a request, one request
   * after another; callers wanting parallel requests pass ROUTES_PER_BATCH ids a call). A number
   * with no route (or too long to be a key) is absent from the map. Eventually consistent, like
   * findRoute by default. Keys DynamoDB leaves unprocessed are asked again with backoff; TransientError
   * when some stay unprocessed.
   */
  async findRoutes(phoneNumberIds: readonly string[]): Promise<Map<string, PhoneRoute>> {
    const idOfPk = new Map<string, string>();
    const keys: Array<Record<string, string>> = [];
    for (const id of phoneNumberIds) {
      const key = clientKeys.phoneRoute(id);
      // BatchGetItem refuses a request that repeats a key.
      if (!isStorableKey(key) || idOfPk.has(key.pk)) continue;
      idOfPk.set(key.pk, id);
      keys.push(key);
    }
    const routes = new Map<string, PhoneRoute>();
    for (let start = 0; start < keys.length; start += ROUTES_PER_BATCH) {
      await this.getRouteBatch(keys.slice(start, start + ROUTES_PER_BATCH), idOfPk, routes);
    }
    return routes;
  }

  /** One BatchGetItem of at most ROUTES_PER_BATCH route keys, its unprocessed keys retried. */
  private async getRouteBatch(
    keys: Array<Record<string, unknown>>,
    idOfPk: Map<string, string>,
    into: Map<string, PhoneRoute>,
  ): Promise<void> {
    let pending = keys;
    for (let attempt = 1; ; attempt++) {
      const { Responses, UnprocessedKeys } = await this.db.send(
        new BatchGetCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: pending,
              // The key (to tell which number an item answers) and the route's own fields.
              ProjectionExpression: '#pk, #client, #active',
              ExpressionAttributeNames: { '#pk': 'pk', '#client': 'client_id', '#active': 'active' },
            },
          },
        }),
      );
      for (const item of Responses?.[this.tableName] ?? []) {
        const id = typeof item.pk === 'string' ? idOfPk.get(item.pk) : undefined;
        if (id !== undefined && typeof item.client_id === 'string') {
          into.set(id, { client_id: item.client_id, active: item.active === true });
        }
      }
      pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      if (pending.length === 0) return;
      if (attempt >= ROUTE_BATCH_ATTEMPTS) {
        throw new TransientError(
          `${pending.length} phone routes stayed unprocessed after ${attempt} BatchGetItem requests`,
        );
      }
      await sleep(Math.random() * ROUTE_BATCH_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }

  /**
   * Replaces a client's profile with `next` (optimistic: only if `previous.updated_at` is still
   * current) and moves or updates its phone route in the same transaction, with its QR shard
   * membership (qrWrites).
   */
  async replace(previous: Client, next: Client): Promise<void> {
    assertProfileFits(next);
    const routeWrites = await this.routeWrites(previous, next);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: profileItem(next),
          ConditionExpression: 'updated_at = :seen',
          ExpressionAttributeValues: { ':seen': previous.updated_at },
        },
      },
      ...routeWrites.map((write) => write.item),
      ...qrWrites(this.tableName, previous, next),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const failed = (error.CancellationReasons ?? []).findIndex(
          (r) => r.Code === 'ConditionalCheckFailed',
        );
        if (failed === 0) throw new ConcurrentChangeError();
        const write = routeWrites[failed - 1];
        if (write?.conflict) throw new ConflictError(write.conflict);
        // A route changed hands between our read and the write: read everything again.
        if (write) throw new ConcurrentChangeError();
      }
      throw error;
    }
  }

  /**
   * The phone-route writes of a change. An active client holds its number's route; a deleted one
   * holds it only until another client takes the number. From then on that route is none of its
   * business: edits of the deleted client leave it alone, and only a change that claims a number
   * (moving to it, or reactivating) can conflict.
   */
  private async routeWrites(previous: Client, next: Client): Promise<RouteWrite[]> {
    const moved = previous.phone_number_id !== next.phone_number_id;
    const writes: RouteWrite[] = [];
    if (moved && (await this.ownsRoute(previous))) writes.push(this.releaseRoute(previous));
    if (next.active) {
      writes.push(this.claimRoute(next, claimConflict(previous, next)));
    } else if (moved || previous.active) {
      const route = await this.findRoute(next.phone_number_id, { consistent: true });
      if (!route || route.client_id === next.id) writes.push(this.keepInactiveRoute(next));
      else if (moved && route.active) {
        throw new ConflictError(
          `phone_number_id ${next.phone_number_id} already belongs to an active client`,
        );
      }
    }
    return writes;
  }

  private async ownsRoute(client: Client): Promise<boolean> {
    return (await this.findRoute(client.phone_number_id, { consistent: true }))?.client_id === client.id;
  }

  /** Deletes the route of a number the client leaves, while it is still the client's. */
  private releaseRoute(client: Client): RouteWrite {
    return {
      item: {
        Delete: {
          TableName: this.tableName,
          Key: clientKeys.phoneRoute(client.phone_number_id),
          ConditionExpression: 'client_id = :id',
          ExpressionAttributeValues: { ':id': client.id },
        },
      },
    };
  }

  /** Routes the number to the (active) client unless another active client has it. */
  private claimRoute(client: Client, conflict: string): RouteWrite {
    return {
      item: {
        Put: {
          TableName: this.tableName,
          Item: routeItem(client),
          ConditionExpression: 'attribute_not_exists(pk) OR active = :false OR client_id = :id',
          ExpressionAttributeValues: { ':false': false, ':id': client.id },
        },
      },
      conflict,
    };
  }

  /** Marks the number's route inactive while it is free or still the (inactive) client's own. */
  private keepInactiveRoute(client: Client): RouteWrite {
    return {
      item: {
        Put: {
          TableName: this.tableName,
          Item: routeItem(client),
          ConditionExpression: 'attribute_not_exists(pk) OR client_id = :id',
          ExpressionAttributeValues: { ':id': client.id },
        },
      },
    };
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
