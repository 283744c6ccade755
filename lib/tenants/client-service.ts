import { ValidationError } from '../errors.ts';
import { logger } from '../logger.ts';
import { compileInstructions } from '../provisioning/instructions.ts';
import { qrPhoneNumberId, shardOf } from '../qr/shards.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { requireApprovedWindowTemplate, type WindowTemplateCheck } from '../templates/tenant-templates.ts';
import {
  type AssistantRecord,
  type Channel,
  type Client,
  type ConnectionTestRecord,
  DEFAULT_MAX_RETENTION_HOURS,
  type InvitationStatus,
  newAssistantId,
  newClientId,
  newLandingSlug,
} from './client.ts';
import { ClientQrSessions, channelOf, type QrModePort } from './client-qr-sessions.ts';
import { type ClientRepository, ConcurrentChangeError } from './client-repository.ts';

export { NOT_IN_QR_MODE, QR_MODE_UNAVAILABLE, type QrModePort } from './client-qr-sessions.ts';

import type {
  CreateClientInput,
  OperatorQrStatus,
  TenantQrStatus,
  TenantUpdateInput,
  UpdateClientInput,
} from './client-schemas.ts';

/** A request to (re)build a client's assistant at a given version. */
export interface ProvisionJob {
  client_id: string;
  assistant_version: number;
}

export interface ClientServiceDeps {
  clients: ClientRepository;
  secrets: SecretBox;
  /** Queues a provisioning job (vector store build); called when OpenAI is usable for the client. */
  enqueueProvisioning(job: ProvisionJob): Promise<void>;
  /** Whether the platform has an OpenAI key (tenants may also bring their own). */
  platformHasOpenAi(): Promise<boolean>;
  defaultModel: string;
  now?: () => Date;
  /** QR mode (absent: the deployment has no QR runner, and `channel: "qr"` is 409). */
  qr?: QrModePort;
  /**
   * Checks a `window_template` against the approved templates of the client's WABA when it is set
   * (absent: setting one is 409, it cannot be checked).
   */
  windowTemplates?: WindowTemplateCheck;
}

/**
 * The operator's use cases on clients: create, read, list, change, deactivate. Building the
 * assistant's vector store is asynchronous (the provisioner); everything else happens here.
 */
export class ClientService {
  private readonly qrSessions: ClientQrSessions;

  constructor(private readonly deps: ClientServiceDeps) {
    this.qrSessions = new ClientQrSessions(deps);
  }

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private async usesOpenAi(client: Client): Promise<boolean> {
    return client.openai_api_key_enc !== undefined || (await this.deps.platformHasOpenAi());
  }

  /** The assistant record for the client's current data; `pending` while a vector store is built. */
  private buildAssistant(client: Client, version: number, usesOpenAi: boolean): AssistantRecord {
    return {
      id: client.assistant?.id ?? newAssistantId(),
      version,
      model: client.openai_model ?? this.deps.defaultModel,
      instructions: compileInstructions({
        name: client.name,
        language: client.language,
        business_hours: client.business_hours,
        faqs: client.faqs,
        hasVectorStore: usesOpenAi,
      }),
      // Keep the previous vector store in use until the provisioner replaces it.
      ...(client.assistant?.vector_store_id ? { vector_store_id: client.assistant.vector_store_id } : {}),
      status: usesOpenAi ? 'pending' : 'ready',
      ...(usesOpenAi ? {} : { status_reason: 'offline FAQ responder (no OpenAI key configured)' }),
      updated_at: this.now(),
    };
  }

  /** The QR port, or 409 when the deployment has none. */
  private qrMode(): QrModePort {
    return this.qrSessions.mode();
  }

  private refuseUnavailableChannel(channel: Channel | undefined): void {
    if (channel === 'qr') this.qrMode();
  }

  async create(input: CreateClientInput): Promise<Client> {
    this.refuseUnavailableChannel(input.channel);
    const now = this.now();
    const id = newClientId();
    const qr = input.channel === 'qr';
    if (!qr && input.phone_number_id === undefined) {
      throw new ValidationError('phone_number_id is required with channel "cloud_api"', [
        { field: 'phone_number_id', message: 'required with channel "cloud_api"' },
      ]);
    }
    const client: Client = {
      id,
      slug: newLandingSlug(),
      name: input.name,
      phone_number: input.phone_number,
      phone_number_id: qr ? qrPhoneNumberId(id) : (input.phone_number_id as string),
      ...(qr ? { qr_shard: shardOf(id, this.qrMode().shardCount) } : {}),
      ...(qr && input.phone_number_id ? { cloud_phone_number_id: input.phone_number_id } : {}),
      faqs: input.faqs,
      language: input.language,
      bot_enabled: input.bot_enabled,
      retention_hours: input.retention_hours,
      active: true,
      created_at: now,
      updated_at: now,
      credentials_status: 'ok',
      assistant: undefined as unknown as AssistantRecord,
      ...(input.welcome_message ? { welcome_message: input.welcome_message } : {}),
      ...(input.business_hours ? { business_hours: input.business_hours } : {}),
      ...(input.email ? { email: input.email } : {}),
      ...(input.openai_model ? { openai_model: input.openai_model } : {}),
      channel: input.channel ?? 'cloud_api',
      ...(input.qr_answer_groups !== undefined ? { qr_answer_groups: input.qr_answer_groups } : {}),
      ...(input.waba_id ? { waba_id: input.waba_id } : {}),
      ...(input.reply_delay_seconds !== undefined ? { reply_delay_seconds: input.reply_delay_seconds } : {}),
      ...(input.handoff_minutes !== undefined ? { handoff_minutes: input.handoff_minutes } : {}),
      ...(input.media_daily_limit !== undefined ? { media_daily_limit: input.media_daily_limit } : {}),
      ...(input.audio_max_seconds !== undefined ? { audio_max_seconds: input.audio_max_seconds } : {}),
      ...(input.window_template ? { window_template: input.window_template } : {}),
      ...(input.max_retention_hours !== undefined ? { max_retention_hours: input.max_retention_hours } : {}),
    };
    if (input.whatsapp_access_token) {
      client.whatsapp_access_token_enc = await this.deps.secrets.encrypt(input.whatsapp_access_token, {
        tenantId: id,
      });
    }
    if (input.openai_api_key) {
      client.openai_api_key_enc = await this.deps.secrets.encrypt(input.openai_api_key, { tenantId: id });
    }
    if (client.window_template) {
      await requireApprovedWindowTemplate(this.deps.windowTemplates, client, client.window_template);
    }
    const usesOpenAi = await this.usesOpenAi(client);
    client.assistant = this.buildAssistant(client, 1, usesOpenAi);
    await this.deps.clients.create(client);
    await this.qrSessions.afterChange(undefined, client);
    if (usesOpenAi) return this.queueBuild(client);
    return client;
  }

  /**
   * Queues the build of the client's current assistant version. The client is already stored, so a
   * queue failure must not fail the request (a retried POST would meet a 409): the assistant shows
   * `failed` with the reason instead, and any later change that rebuilds it queues it again.
   */
  private async queueBuild(client: Client): Promise<Client> {
    try {
      await this.deps.enqueueProvisioning({
        client_id: client.id,
        assistant_version: client.assistant.version,
      });
      return client;
    } catch (error) {
      logger.error('assistant build could not be queued', { clientId: client.id, error: String(error) });
      const assistant = {
        ...client.assistant,
        status: 'failed' as const,
        status_reason:
          'the assistant build could not be queued; PATCH the client (e.g. its faqs) to try again',
        updated_at: this.now(),
      };
      await this.deps.clients.setAssistant(client.id, assistant);
      return (await this.deps.clients.get(client.id)) ?? { ...client, assistant };
    }
  }

  /** The client, or undefined when there is none (no error: authentication asks this). */
  find(id: string): Promise<Client | undefined> {
    return this.deps.clients.get(id);
  }

  get(id: string): Promise<Client> {
    return this.deps.clients.require(id);
  }

  list(options: { activeOnly: boolean }): Promise<Client[]> {
    return this.deps.clients.list(options);
  }

  /**
   * Background writers (the provisioner, the worker flagging credentials) also touch the profile:
   * an operator's change that meets one of them is re-applied to the fresh record, a few times.
   */
  private async withRetryOnConcurrentChange<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (!(error instanceof ConcurrentChangeError) || attempt >= 3) throw error;
      }
    }
  }

  /** The operator's change (PATCH /clients/{id}). */
  update(id: string, changes: UpdateClientInput): Promise<Client> {
    this.refuseUnavailableChannel(changes.channel);
    return this.withRetryOnConcurrentChange(() => this.applyUpdate(id, changes));
  }

  /**
   * The tenant's own change (PATCH /tenant): only the fields of its schema, and a retention no longer
   * than the operator allows this client.
   */
  updateAsTenant(id: string, changes: TenantUpdateInput): Promise<Client> {
    this.refuseUnavailableChannel(changes.channel);
    return this.withRetryOnConcurrentChange(() =>
      this.applyUpdate(id, changes, (previous) => {
        // On the platform's OpenAI key, the model (and so the bill) is the operator's choice.
        const ownKey =
          typeof changes.openai_api_key === 'string' ||
          (changes.openai_api_key === undefined && previous.openai_api_key_enc !== undefined);
        if (changes.openai_model !== undefined && !ownKey) {
          throw new ValidationError(
            "openai_model can be chosen only with your own OpenAI key (openai_api_key); on the platform's key the operator sets the model",
            [{ field: 'openai_model', message: 'needs your own openai_api_key' }],
          );
        }
        const limit = previous.max_retention_hours ?? DEFAULT_MAX_RETENTION_HOURS;
        if (changes.retention_hours !== undefined && changes.retention_hours > limit) {
          throw new ValidationError(
            `retention_hours ${changes.retention_hours} is above the ${limit} hours the operator allows for this client`,
            [{ field: 'retention_hours', message: `at most ${limit}` }],
          );
        }
      }),
    );
  }

  /** Makes sure the client's landing page resolves (clients stored before slug lookups existed). */
  async ensureLandingPage(client: Client): Promise<void> {
    await this.deps.clients.ensureSlugLookup(client);
  }

  /** Records the latest invitation e-mail's outcome on the client (shown in its view). */
  async recordInvitation(id: string, invitation: InvitationStatus): Promise<void> {
    await this.deps.clients.patch(id, { invitation });
  }

  /** Records the latest connection test's outcome on the client (shown in its connection status). */
  async recordConnectionTest(id: string, test: ConnectionTestRecord): Promise<void> {
    await this.deps.clients.patch(id, { last_connection_test: test });
  }

  private async applyUpdate(
    id: string,
    changes: UpdateClientInput,
    check?: (previous: Client) => void,
  ): Promise<Client> {
    const previous = await this.deps.clients.require(id);
    check?.(previous);
    const next: Client = { ...previous, updated_at: this.now() };
    const { whatsapp_access_token, openai_api_key, active, waba_id, window_template, ...plain } = changes;
    Object.assign(next, Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined)));
    if (waba_id === null) delete next.waba_id;
    else if (waba_id !== undefined) next.waba_id = waba_id;
    if (window_template === null) delete next.window_template;
    else if (window_template !== undefined) next.window_template = window_template;
    if (whatsapp_access_token === null) delete next.whatsapp_access_token_enc;
    else if (whatsapp_access_token !== undefined) {
      next.whatsapp_access_token_enc = await this.deps.secrets.encrypt(whatsapp_access_token, {
        tenantId: id,
      });
    }
    if (whatsapp_access_token !== undefined) {
      // New credentials: give them a chance even if the old ones were flagged invalid.
      next.credentials_status = 'ok';
      delete next.credentials_status_reason;
    }
    if (openai_api_key === null) delete next.openai_api_key_enc;
    else if (openai_api_key !== undefined) {
      next.openai_api_key_enc = await this.deps.secrets.encrypt(openai_api_key, { tenantId: id });
    }
    if (active !== undefined && active !== previous.active) {
      next.active = active;
      if (active) delete next.deactivated_at;
      else next.deactivated_at = next.updated_at;
    }
    this.applyChannel(previous, next, changes);
    await this.checkWindowTemplate(previous, next, changes);
    // The assistant is rebuilt (new version) when anything it is made of changes.
    const rebuild =
      changes.faqs !== undefined ||
      changes.name !== undefined ||
      changes.business_hours !== undefined ||
      changes.language !== undefined ||
      changes.openai_model !== undefined ||
      openai_api_key !== undefined;
    const usesOpenAi = await this.usesOpenAi(next);
    if (rebuild) next.assistant = this.buildAssistant(next, previous.assistant.version + 1, usesOpenAi);
    await this.deps.clients.replace(previous, next);
    await this.qrSessions.afterChange(previous, next);
    if (rebuild && usesOpenAi) return this.queueBuild(next);
    return next;
  }

  /**
   * A `window_template` is checked against the WABA's approved templates when it is set, and when
   * the WABA (or the token that reads it) changes under one that is kept; with the credentials of
   * `next`, so a token given in the same change is the one used.
   */
  private async checkWindowTemplate(previous: Client, next: Client, changes: UpdateClientInput) {
    const template = next.window_template;
    if (!template) return;
    const setNow = changes.window_template !== undefined && changes.window_template !== null;
    const wabaMoved = changes.waba_id !== undefined && changes.waba_id !== previous.waba_id;
    if (!setNow && !wabaMoved) return;
    await requireApprovedWindowTemplate(this.deps.windowTemplates, next, template);
  }

  /**
   * The channel of `next` after `changes`. Into QR mode: the Cloud number is kept as
   * `cloud_phone_number_id`, the client routes as `qr:<id>` (the repository moves the route) on its
   * shard. Back to Cloud API: the kept number (or the one given now) routes to it again.
   */
  private applyChannel(previous: Client, next: Client, changes: UpdateClientInput): void {
    const was = channelOf(previous);
    const will = changes.channel ?? was;
    if (will === 'qr') {
      // A number named while in QR mode is the one to go back to.
      const cloudNumber =
        changes.phone_number_id ?? (was === 'qr' ? previous.cloud_phone_number_id : previous.phone_number_id);
      next.channel = 'qr';
      next.phone_number_id = qrPhoneNumberId(next.id);
      next.qr_shard =
        (was === 'qr' ? previous.qr_shard : undefined) ?? shardOf(next.id, this.qrMode().shardCount);
      if (cloudNumber !== undefined) next.cloud_phone_number_id = cloudNumber;
      else delete next.cloud_phone_number_id;
      return;
    }
    if (was !== 'qr') return;
    const number = changes.phone_number_id ?? previous.cloud_phone_number_id;
    if (number === undefined) {
      throw new ValidationError(
        'switching back to channel "cloud_api" needs a phone_number_id: this client never had a Cloud API number (the operator sets it with PATCH /clients/{id})',
        [{ field: 'phone_number_id', message: 'required to leave QR mode' }],
      );
    }
    next.channel = 'cloud_api';
    next.phone_number_id = number;
    delete next.cloud_phone_number_id;
    delete next.qr_shard;
  }

  /** GET /tenant/qr: the client's QR session as the runner last reported it (`starting` before). */
  qrStatus(client: Client): Promise<TenantQrStatus> {
    return this.qrSessions.status(client);
  }

  /** The `qr` section of the operator's view: null for a Cloud API client (or without QR mode). */
  operatorQrStatus(client: Client): Promise<OperatorQrStatus | null> {
    return this.qrSessions.operatorStatus(client);
  }

  /** Queues `start` or `unlink` on the client's shard; the state before the runner acts on it. */
  qrCommand(client: Client, kind: 'start' | 'unlink'): Promise<{ state: TenantQrStatus['state'] }> {
    return this.qrSessions.command(client, kind);
  }

  /** Soft delete: the client is kept, inactive; its messages are acknowledged and not answered. */
  deactivate(id: string): Promise<Client> {
    return this.withRetryOnConcurrentChange(async () => {
      const previous = await this.deps.clients.require(id);
      if (!previous.active) return previous;
      const now = this.now();
      const next: Client = { ...previous, active: false, deactivated_at: now, updated_at: now };
      await this.deps.clients.replace(previous, next);
      await this.qrSessions.afterChange(previous, next);
      return next;
    });
  }
}
