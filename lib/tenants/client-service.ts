import { ConflictError, ValidationError } from '../errors.ts';
import { logger } from '../logger.ts';
import { compileInstructions } from '../provisioning/instructions.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
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
import { type ClientRepository, ConcurrentChangeError } from './client-repository.ts';
import type { CreateClientInput, TenantUpdateInput, UpdateClientInput } from './client-schemas.ts';

/**
 * QR mode needs the QR runner (a whatsapp-web.js service on ECS), which this deployment does not
 * have yet: choosing it is refused with this reason rather than accepted and never connected.
 */
export const QR_MODE_UNAVAILABLE =
  'QR mode is not available on this deployment yet (it has no QR runner); keep channel "cloud_api"';

function refuseUnavailableChannel(channel: Channel | undefined): void {
  if (channel === 'qr') throw new ConflictError(QR_MODE_UNAVAILABLE);
}

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
}

/**
 * The operator's use cases on clients: create, read, list, change, deactivate. Building the
 * assistant's vector store is asynchronous (the provisioner); everything else happens here.
 */
export class ClientService {
  constructor(private readonly deps: ClientServiceDeps) {}

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

  async create(input: CreateClientInput): Promise<Client> {
    refuseUnavailableChannel(input.channel);
    const now = this.now();
    const id = newClientId();
    const client: Client = {
      id,
      slug: newLandingSlug(),
      name: input.name,
      phone_number: input.phone_number,
      phone_number_id: input.phone_number_id,
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
      ...(input.waba_id ? { waba_id: input.waba_id } : {}),
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
    const usesOpenAi = await this.usesOpenAi(client);
    client.assistant = this.buildAssistant(client, 1, usesOpenAi);
    await this.deps.clients.create(client);
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
    refuseUnavailableChannel(changes.channel);
    return this.withRetryOnConcurrentChange(() => this.applyUpdate(id, changes));
  }

  /**
   * The tenant's own change (PATCH /tenant): only the fields of its schema, and a retention no longer
   * than the operator allows this client.
   */
  updateAsTenant(id: string, changes: TenantUpdateInput): Promise<Client> {
    refuseUnavailableChannel(changes.channel);
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
    const { whatsapp_access_token, openai_api_key, active, waba_id, ...plain } = changes;
    Object.assign(next, Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined)));
    if (waba_id === null) delete next.waba_id;
    else if (waba_id !== undefined) next.waba_id = waba_id;
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
    if (rebuild && usesOpenAi) return this.queueBuild(next);
    return next;
  }

  /** Soft delete: the client is kept, inactive; its messages are acknowledged and not answered. */
  deactivate(id: string): Promise<Client> {
    return this.withRetryOnConcurrentChange(async () => {
      const previous = await this.deps.clients.require(id);
      if (!previous.active) return previous;
      const now = this.now();
      const next: Client = { ...previous, active: false, deactivated_at: now, updated_at: now };
      await this.deps.clients.replace(previous, next);
      return next;
    });
  }
}
