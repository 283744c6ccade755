import type { ContactRef } from './inbound-event.ts';
import type { Contact } from './ports.ts';

/**
 * Ports of the durable debounce (reply-burst.ts): the per-contact burst record and the delayed
 * wake-ups. The DynamoDB adapter is burst-store.ts, the SQS one burst-wakeup-queue.ts; tests may
 * point both at the emulators or pass fakes.
 */

/** One customer message waiting in a burst for the burst's answer. */
export interface PendingMessage {
  id: string;
  type: string;
  text?: string;
  /** Epoch seconds, as Meta sent it. */
  timestamp: number;
  /** When the webhook received it (ISO). */
  received_at: string;
  /** The burst's sequence number this message set when it joined. */
  seq: number;
  /** When it joined the burst, epoch ms of the assistant's clock (the cap counts from the first). */
  at: number;
  /** Media of it that was not taken in (the burst's answer says so first). */
  unread?: boolean;
  /** Its text is a transcript the model was unsure of (the answer repeats it first). */
  uncertain?: boolean;
}

/** A contact's reply burst: the messages collected and not yet answered. */
export interface ReplyBurst {
  contact: ContactRef;
  phone_number_id: string;
  channel?: 'cloud_api' | 'qr';
  /** Bumped by every message that joins: a wake-up carrying an older one is stale. */
  seq: number;
  /** When the oldest pending message joined (epoch ms); absent when nothing is pending. */
  first_at?: number;
  pending: PendingMessage[];
  /** Set once a wake-up took the burst up to `upto` for answering under the claim `id`. */
  answering?: { id: string; upto: number };
}

/** What joining a burst left: its sequence and when its first pending message joined. */
export interface BurstPosition {
  seq: number;
  firstAt: number;
}

export interface CollectRequest {
  tenantId: string;
  contact: ContactRef;
  phoneNumberId: string;
  channel?: 'cloud_api' | 'qr';
  message: Omit<PendingMessage, 'seq'>;
  /** The owner of the message's claim: the message joins only while that claim is still held. */
  claimOwner: string;
  retentionHours: number;
}

export interface BurstRecords {
  /**
   * Adds the message to its contact's burst and bumps the sequence, in one transaction with a
   * check that `claimOwner` still holds the message's claim. Idempotent per message id: a message
   * already pending leaves the burst as it is. Rejects with LostClaimError when the claim is lost.
   */
  collect(request: CollectRequest, now: number): Promise<BurstPosition>;
  /** The contact's burst (strongly consistent), undefined when there is none. */
  get(tenantId: string, contactKey: string): Promise<ReplyBurst | undefined>;
  /**
   * Takes the burst as it is at `seq` for answering under the claim `burstId`; false when the
   * sequence moved on or another wake-up took it first (read it again).
   */
  startAnswering(tenantId: string, contactKey: string, seq: number, burstId: string): Promise<boolean>;
  /**
   * Completes the claim of a message answered with its burst, if it is still being worked on (its
   * collecting worker died, or has not completed it yet); true when this call completed it.
   */
  settleMessageClaim(tenantId: string, messageId: string, at: Date): Promise<boolean>;
  /**
   * Removes the messages answered under `burstId` (those up to its `upto`); messages that joined
   * meanwhile stay as the next burst, whose position is returned (undefined when none is left).
   */
  clearAnswered(tenantId: string, contactKey: string, burstId: string): Promise<BurstPosition | undefined>;
}

/** The wake-up message of a burst: which burst, and its sequence when it was scheduled. */
export interface BurstWakeup {
  v: 1;
  tenant_id: string;
  contact_key: string;
  seq: number;
}

export interface BurstWakeups {
  /** Delivers the wake-up to the burst consumer after `delaySeconds` (0–900). */
  schedule(wakeup: BurstWakeup, delaySeconds: number): Promise<void>;
}

/** Everything the debounce needs beside the answer's own dependencies. */
export interface ReplyBursts {
  store: BurstRecords;
  wakeups: BurstWakeups;
  /** The contact as it is when the burst is answered (bot paused, welcomed, handed off...). */
  contacts: {
    getContact(tenantId: string, contactKey: string): Promise<Contact | undefined>;
  };
}
