import type {
  ConversationItem,
  GraphCall,
  SimulatedInbound,
  SimulatedOutbound,
  SimulatedRead,
} from './types.ts';

/**
 * What the simulator has seen, shared by its parts: the messages the product sent through the Graph
 * stand-in, its read receipts, the customer messages delivered to the webhook, every Graph call, and
 * the media it can serve with the short-lived URLs it gave out. One timeline orders inbound and
 * outbound messages for the chat page.
 */

export interface StoredMedia {
  mimeType: string;
  data: Buffer;
}

/** A short-lived media URL the lookup gave out (graph-media.ts), by its unguessable `hash`. */
export interface IssuedMediaUrl {
  mediaId: string;
  /** Epoch milliseconds on the simulator's clock. */
  expiresAt: number;
}

export interface SimulatorStore {
  readonly sent: SimulatedOutbound[];
  readonly reads: SimulatedRead[];
  readonly inbound: SimulatedInbound[];
  readonly graphCalls: GraphCall[];
  readonly media: Map<string, StoredMedia>;
  readonly mediaUrls: Map<string, IssuedMediaUrl>;
  recordOutbound(message: SimulatedOutbound): void;
  /** Recorded before delivery: the reply may arrive before the webhook answers. */
  recordInbound(message: SimulatedInbound): void;
  waitForSent(
    predicate: (message: SimulatedOutbound) => boolean,
    timeoutMs?: number,
  ): Promise<SimulatedOutbound>;
  conversation(phoneNumberId: string, contact: string): ConversationItem[];
  /** Whether a typing indicator younger than `typingMs` is on a message of `items` not answered yet. */
  isTyping(phoneNumberId: string, items: ConversationItem[], typingMs: number): boolean;
  reset(): void;
}

export function createSimulatorStore(): SimulatorStore {
  const sent: SimulatedOutbound[] = [];
  const reads: SimulatedRead[] = [];
  const inbound: SimulatedInbound[] = [];
  const graphCalls: GraphCall[] = [];
  const media = new Map<string, StoredMedia>();
  const mediaUrls = new Map<string, IssuedMediaUrl>();
  const timeline: Array<{ seq: number; kind: 'in' | 'out'; index: number }> = [];
  const waiters = new Set<(message: SimulatedOutbound) => void>();
  let seq = 0;

  /** Every identity (phone, user id) seen for the customer `contact` with this business. */
  function identitiesOf(phoneNumberId: string, contact: string): Set<string> {
    const identities = new Set([contact]);
    for (const message of inbound) {
      if (message.phoneNumberId !== phoneNumberId) continue;
      if (message.from === contact || message.userId === contact) {
        if (message.from) identities.add(message.from);
        if (message.userId) identities.add(message.userId);
      }
    }
    return identities;
  }

  return {
    sent,
    reads,
    inbound,
    graphCalls,
    media,
    mediaUrls,

    recordOutbound(message) {
      sent.push(message);
      timeline.push({ seq: ++seq, kind: 'out', index: sent.length - 1 });
      for (const waiter of [...waiters]) waiter(message);
    },

    recordInbound(message) {
      inbound.push(message);
      timeline.push({ seq: ++seq, kind: 'in', index: inbound.length - 1 });
    },

    waitForSent(predicate, timeoutMs = 5000) {
      const existing = sent.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const waiter = (message: SimulatedOutbound) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching outbound message within ${timeoutMs} ms (${sent.length} sent)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },

    conversation(phoneNumberId, contact) {
      // A customer may be addressed by phone or by user id: collect every identity seen for this one.
      const identities = identitiesOf(phoneNumberId, contact);
      const items: ConversationItem[] = [];
      for (const entry of timeline) {
        if (entry.kind === 'in') {
          const message = inbound[entry.index];
          if (!message || message.phoneNumberId !== phoneNumberId) continue;
          if (!identities.has(message.from ?? '') && !identities.has(message.userId ?? '')) continue;
          const item: ConversationItem = {
            seq: entry.seq,
            direction: 'in',
            id: message.id,
            text: message.text,
            at: message.at,
            read: reads.some((read) => read.messageId === message.id),
          };
          if (message.media) item.media = message.media;
          if (message.webhookStatus !== undefined) item.webhookStatus = message.webhookStatus;
          items.push(item);
        } else {
          const message = sent[entry.index];
          if (!message || message.phoneNumberId !== phoneNumberId) continue;
          if (!identities.has(message.to ?? '') && !identities.has(message.recipient ?? '')) continue;
          items.push({
            seq: entry.seq,
            direction: 'out',
            id: message.id,
            text: message.text,
            at: message.at,
          });
        }
      }
      return items;
    },

    isTyping(phoneNumberId, items, typingMs) {
      const lastOutSeq = Math.max(0, ...items.filter((m) => m.direction === 'out').map((m) => m.seq));
      const now = Date.now();
      return reads.some((read) => {
        if (!read.typing || read.phoneNumberId !== phoneNumberId) return false;
        if (now - Date.parse(read.at) > typingMs) return false;
        const target = items.find((m) => m.direction === 'in' && m.id === read.messageId);
        return target !== undefined && target.seq > lastOutSeq;
      });
    },

    reset() {
      sent.length = 0;
      reads.length = 0;
      inbound.length = 0;
      graphCalls.length = 0;
      timeline.length = 0;
      media.clear();
      mediaUrls.clear();
    },
  };
}
