import type { ApprovedTemplate } from '../conversation/ports.ts';
import { type AppError, BadGatewayError, ConflictError, ValidationError } from '../errors.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Client } from '../tenants/client.ts';
import type { WindowTemplate } from '../tenants/client-schemas.ts';
import { TemplateListError } from '../whatsapp/message-templates.ts';
import type { TemplateCatalog, TemplateList } from './template-catalog.ts';

/**
 * A client's message templates as the API reads them: from its WABA (`waba_id`), with the token it
 * sends with (its own, else the platform's), through the cached catalog. Meta's verdicts become
 * errors the caller can act on: 409 for what the tenant's settings must fix (no WABA id, a refused
 * token, a WABA id the token cannot see, a missing permission), 502 when the Graph API failed or
 * did not answer.
 */

export const NO_WABA_ID =
  'no waba_id is set: set the WhatsApp Business Account id (PATCH {"waba_id": "…"}) to read its message templates';

export interface TenantTemplatesDeps {
  catalog: Pick<TemplateCatalog, 'list' | 'findApproved' | 'holdsNumber'>;
  secrets: Pick<SecretBox, 'decrypt'>;
  platformAccessToken(): Promise<string | undefined>;
}

/** The approved-template check the client service is given (validation of `window_template`). */
export interface WindowTemplateCheck {
  /** The approved template of the client's WABA; undefined when it is not approved there. */
  findApproved(client: Client, template: WindowTemplate): Promise<ApprovedTemplate | undefined>;
}

export class TenantTemplates implements WindowTemplateCheck {
  constructor(private readonly deps: TenantTemplatesDeps) {}

  /** GET /tenant/templates and GET /clients/{id}/templates. */
  async list(
    client: Client,
    options: { refresh?: boolean } = {},
  ): Promise<TemplateList & { waba_id: string }> {
    const { wabaId, token } = await this.access(client);
    const listed = await this.mapped(wabaId, () => this.deps.catalog.list(client.id, wabaId, token, options));
    return { waba_id: wabaId, ...listed };
  }

  async findApproved(client: Client, template: WindowTemplate): Promise<ApprovedTemplate | undefined> {
    const { wabaId, token } = await this.access(client);
    return this.mapped(wabaId, () => this.deps.catalog.findApproved(client.id, wabaId, token, template));
  }

  private async access(client: Client): Promise<{ wabaId: string; token: string }> {
    const wabaId = client.waba_id;
    if (!wabaId) throw new ConflictError(NO_WABA_ID);
    const ownToken = client.whatsapp_access_token_enc;
    const token = ownToken
      ? await this.deps.secrets.decrypt(ownToken, { tenantId: client.id })
      : await this.deps.platformAccessToken();
    if (!token) {
      throw new ConflictError(
        'no WhatsApp access token to read the templates with: set whatsapp_access_token',
      );
    }
    // The platform's token reaches every business on the platform: with it a client reads only the
    // WABA that holds its own number, never one it merely names.
    if (!ownToken) {
      const holds = await this.mapped(wabaId, () =>
        this.deps.catalog.holdsNumber(wabaId, token, client.phone_number_id),
      );
      if (!holds) {
        throw new ConflictError(
          `WABA ${wabaId} does not hold this client's number (phone_number_id ${client.phone_number_id}): on the platform's token only the WABA of your own number can be read; fix waba_id, or set your own whatsapp_access_token`,
        );
      }
    }
    return { wabaId, token };
  }

  private async mapped<T>(wabaId: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof TemplateListError)) throw error;
      throw templateError(error, wabaId);
    }
  }
}

/** What a failed template read means to the API's caller. */
export function templateError(error: TemplateListError, wabaId: string): AppError {
  switch (error.failure) {
    case 'token_invalid':
      return new ConflictError(
        `Meta refused the WhatsApp access token (${error.detail}): update whatsapp_access_token`,
      );
    case 'waba_not_found':
      return new ConflictError(`waba_id ${wabaId}: ${error.detail}`);
    case 'permission':
      return new ConflictError(`the templates of WABA ${wabaId} cannot be read: ${error.detail}`);
    default:
      return new BadGatewayError(
        `the templates of WABA ${wabaId} could not be read from the Graph API: ${error.detail}; try again`,
        { cause: error },
      );
  }
}

/**
 * The check of a `window_template` being set: 400 without a WABA to check it against and when it
 * is not an approved template there.
 */
export async function requireApprovedWindowTemplate(
  check: WindowTemplateCheck | undefined,
  client: Client,
  template: WindowTemplate,
): Promise<void> {
  if (!client.waba_id) {
    throw new ValidationError(
      'window_template needs a waba_id to be checked against: set waba_id (the WhatsApp Business Account of its templates) too',
      [{ field: 'window_template', message: 'needs waba_id' }],
    );
  }
  if (!check) throw new ConflictError('message templates cannot be checked on this deployment');
  const found = await check.findApproved(client, template);
  if (!found) {
    throw new ValidationError(
      `window_template "${template.name}" (${template.language}) is not an approved template on WABA ${client.waba_id}`,
      [{ field: 'window_template', message: 'not an approved template of the WABA' }],
    );
  }
}
