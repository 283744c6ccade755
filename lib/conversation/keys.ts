import { clientKeys } from '../tenants/client.ts';

/**
 * The DynamoDB keys of the conversation's entities: contacts, their aliases, their messages, outbound
 * pointers and message claims. Every one lives under its tenant: in the tenant's own partition (the client's, where
 * its profile is too), or, for messages, in a partition per contact whose key starts with it. Only
 * these builders spell the keys; the stores and the retention purge all go through them.
 */

/** The tenant's partition, as the client entity spells it. */
const tenantPartition = (tenantId: string) => clientKeys.profile(tenantId).pk;

const CONTACT = 'CONTACT#';
const MESSAGE = 'MSG#';
const OUTBOUND = 'OUT#';
const CLAIM = 'CLAIM#';
const ALIAS = 'ALIAS#';

/** A query for the items of one partition whose sort key starts with `skPrefix`. */
export interface KeyPrefix {
  pk: string;
  skPrefix: string;
}

/** A query for the items of one partition whose sort key is between `from` and `to`. */
export interface KeyRange {
  pk: string;
  from: string;
  to: string;
}

/** The key condition of a query for a whole partition. */
export function queryByPartition(pk: string) {
  return {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk } as Record<string, unknown>,
  };
}

/** The key condition of a query for a {@link KeyPrefix}. */
export function queryByPrefix({ pk, skPrefix }: KeyPrefix) {
  return {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix } as Record<string, unknown>,
  };
}

/** The key condition of a query for a {@link KeyRange} (both ends included). */
export function queryByRange({ pk, from, to }: KeyRange) {
  return {
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to } as Record<string, unknown>,
  };
}

export const contactKeys = {
  contact: (tenantId: string, contactKey: string) => ({
    pk: tenantPartition(tenantId),
    sk: `${CONTACT}${contactKey}`,
  }),
  /** Every contact of a tenant, ordered by contact key. */
  contacts: (tenantId: string): KeyPrefix => ({ pk: tenantPartition(tenantId), skPrefix: CONTACT }),
};

export const contactAliasKeys = {
  /** Which contact an id of a customer names: `uid` a business-scoped user id, `wa` a phone (wa_id). */
  alias: (tenantId: string, kind: 'uid' | 'wa', id: string) => ({
    pk: tenantPartition(tenantId),
    sk: `${ALIAS}${kind}#${id}`,
  }),
};

export const messageKeys = {
  /** One partition per contact: its messages, ordered by when we received them. */
  partition: (tenantId: string, contactKey: string) =>
    `${tenantPartition(tenantId)}#${contactKeys.contact(tenantId, contactKey).sk}`,
  message: (tenantId: string, contactKey: string, at: string, messageId: string) => ({
    pk: messageKeys.partition(tenantId, contactKey),
    sk: `${MESSAGE}${at}#${messageId}`,
  }),
  /** Every message of a contact. */
  messages: (tenantId: string, contactKey: string): KeyPrefix => ({
    pk: messageKeys.partition(tenantId, contactKey),
    skPrefix: MESSAGE,
  }),
  /** The sort-key range of a contact's messages received before `beforeIso`. */
  receivedBefore: (tenantId: string, contactKey: string, beforeIso: string): KeyRange => ({
    pk: messageKeys.partition(tenantId, contactKey),
    from: MESSAGE,
    to: `${MESSAGE}${beforeIso}`,
  }),
  /** Finds an outbound message from its wamid when a status update arrives. */
  outboundPointer: (tenantId: string, messageId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `${OUTBOUND}${messageId}`,
  }),
};

export const claimKeys = {
  claim: (tenantId: string, messageId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `${CLAIM}${messageId}`,
  }),
  /** Every claim of a tenant. */
  claims: (tenantId: string): KeyPrefix => ({ pk: tenantPartition(tenantId), skPrefix: CLAIM }),
};

const BURST = 'BURST#';

export const burstKeys = {
  /** A contact's reply burst (reply-burst.ts): in the tenant's partition, like the claims. */
  burst: (tenantId: string, contactKey: string) => ({
    pk: tenantPartition(tenantId),
    sk: `${BURST}${contactKey}`,
  }),
  /** Every reply burst of a tenant. */
  bursts: (tenantId: string): KeyPrefix => ({ pk: tenantPartition(tenantId), skPrefix: BURST }),
};
