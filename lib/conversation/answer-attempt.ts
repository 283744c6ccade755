import type { Telemetry } from '../observability/telemetry.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { ConversationStats } from '../stats/conversation-stats.ts';
import type { ReplyBursts } from './burst-ports.ts';
import type { InboundMessageEvent } from './inbound-event.ts';
import type { MediaDeps, MediaRecord, Understanding } from './media-understanding.ts';
import {
  type AnsweredOutcome,
  type MediaProcessedOutcome,
  outcomeSinks,
  type ReportedOutcome,
  reportOutcome,
} from './outcomes.ts';
import type {
  ClaimResult,
  ClaimStore,
  ClientDirectory,
  ConversationRecords,
  Responder,
  TemplateDirectory,
  WhatsAppSender,
} from './ports.ts';
import type { WindowContext } from './service-window.ts';

export interface AnswerDeps {
  clients: ClientDirectory;
  conversations: ConversationRecords;
  claims: ClaimStore;
  sender: WhatsAppSender;
  responder: Responder;
  secrets: Pick<SecretBox, 'decrypt'>;
  platformWhatsAppToken(): Promise<string | undefined>;
  retentionHours: number;
  /** How long sending stays paused after the platform's spam limit. */
  spamPauseHours?: number;
  /**
   * Time the responder may take (OpenAI with its retries) before it gives up and the FAQ responder
   * answers; the rest of the function's 90 s is for sending. Default 50 s.
   */
  responderBudgetMs?: number;
  /** Where answers, sends, send failures, duplicates and statuses are counted; default: nowhere. */
  telemetry?: Telemetry;
  /** The per-tenant 24 h statistics (GET /admin/stats); default: none. */
  stats?: ConversationStats;
  /**
   * The durable debounce (reply-burst.ts): with it, a tenant's `reply_delay_seconds` collects a
   * burst and answers it once; without it every message is answered on its own.
   */
  bursts?: ReplyBursts;
  /**
   * The tenants' approved templates (to fill a window template's parameters); without it a
   * template is assumed to take one body parameter.
   */
  templates?: TemplateDirectory;
  /** Fetching, transcribing and capping customers' media; without it media gets the polite reply. */
  media?: MediaDeps;
  now?: () => Date;
}

export type AnswerOutcome =
  | 'replied'
  | 'duplicate'
  | 'no_reply'
  | 'tenant_inactive'
  | 'credentials_invalid'
  | 'sending_paused'
  | 'no_access_token'
  | 'window_closed'
  | 'send_failed'
  | 'lost_claim'
  | 'rerouted'
  | 'status_recorded'
  | 'handoff_recorded'
  /** A person took the chat between planning and sending: the rest of the reply was not sent. */
  | 'handed_off'
  /** An `smb_message_echoes` echo of a message we sent ourselves: no handoff. */
  | 'own_echo'
  /** Joined its contact's reply burst: the burst's wake-up answers it (reply-burst.ts). */
  | 'collected';

export const clockOf = (deps: AnswerDeps) => deps.now ?? (() => new Date());

export const report = (deps: AnswerDeps, outcome: ReportedOutcome) =>
  reportOutcome(outcomeSinks(deps), outcome);

/** One worker's hold on one message: everything written after the claim names its owner. */
export interface Attempt {
  event: InboundMessageEvent;
  deps: AnswerDeps;
  owner: string;
  now: () => Date;
  /** The client and contact once recorded: whether replies must go out as a template (service-window.ts). */
  window?: WindowContext;
  /** What the message's media says, once taken in (media-understanding.ts); absent for text. */
  understanding?: Understanding;
  /** What the stored message gains from its media (kept, transcribed), once taken in. */
  mediaRecord?: MediaRecord;
  /** Media processed for the answer: reported once the plan is stored (or the message collected). */
  mediaProcessed?: MediaProcessedOutcome;
  /** Time taking in the media took: the responder's budget is that much shorter. */
  mediaMs?: number;
  /** Set when this attempt's responder composed the answer (for the per-tenant statistics). */
  answered?: AnsweredOutcome;
  finish(outcome: AnswerOutcome): Promise<AnswerOutcome>;
}

/** A claim this worker holds: with the plan and progress of an earlier attempt, if any. */
export type Claimed = Extract<ClaimResult, { outcome: 'claimed' }>;
