import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ApprovedTemplate, TemplateDirectory } from '../conversation/ports.ts';
import { clientKeys } from '../tenants/client.ts';
import { fetchApprovedTemplates, fetchWabaPhoneNumberIds } from '../whatsapp/message-templates.ts';

/**
 * The approved message templates of the tenants' WABAs, read from the Graph API and cached in the
 * table for a few minutes: one item per tenant and WABA, under the tenant's partition (so erasing a
 * tenant erases it), with a TTL. Listing templates (GET /tenant/templates), checking a
 * `window_template` when it is set and filling a template's parameters before a send all read
 * through here, so a busy tenant costs Meta one list call per few minutes, not one per reply.
 */

/** How long a WABA's list is used before it is read again. */
export const TEMPLATE_CACHE_TTL_MS = 5 * 60_000;

const CACHE = 'TEMPLATES#';

export const templateCacheKeys = {
  list: (tenantId: string, wabaId: string) => ({
    pk: clientKeys.profile(tenantId).pk,
    sk: `${CACHE}${wabaId}`,
  }),
};

export interface TemplateList {
  templates: ApprovedTemplate[];
  /** When Meta's list was read (ISO). */
  fetched_at: string;
  /** Whether it came from the cache. */
  cached: boolean;
}

export interface TemplateCatalogOptions {
  db: DynamoDBDocumentClient;
  tableName: string;
  graphBaseUrl: string;
  graphVersion: string;
  ttlMs?: number;
  timeoutMs?: number;
  now?: () => Date;
  fetch?: typeof fetch;
}

export class TemplateCatalog implements TemplateDirectory {
  constructor(private readonly options: TemplateCatalogOptions) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The WABA's approved templates: the cached list while fresh, else (or with `refresh`) Meta's. */
  async list(
    tenantId: string,
    wabaId: string,
    accessToken: string,
    options: { refresh?: boolean } = {},
  ): Promise<TemplateList> {
    if (!options.refresh) {
      const cached = await this.readCache(tenantId, wabaId);
      if (cached) return cached;
    }
    const templates = await fetchApprovedTemplates({
      graphBaseUrl: this.options.graphBaseUrl,
      graphVersion: this.options.graphVersion,
      wabaId,
      accessToken,
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const fetchedAt = this.now();
    const ttlMs = this.options.ttlMs ?? TEMPLATE_CACHE_TTL_MS;
    await this.options.db.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...templateCacheKeys.list(tenantId, wabaId),
          item_type: 'template_list',
          templates,
          fetched_at: fetchedAt.toISOString(),
          fresh_until: fetchedAt.getTime() + ttlMs,
          // DynamoDB's TTL deletes it some time after; freshness is `fresh_until`.
          expires_at: Math.ceil((fetchedAt.getTime() + ttlMs) / 1000) + 3600,
        },
      }),
    );
    return { templates, fetched_at: fetchedAt.toISOString(), cached: false };
  }

  /** Whether the WABA holds the phone number (read from Meta, not cached). */
  async holdsNumber(wabaId: string, accessToken: string, phoneNumberId: string): Promise<boolean> {
    const ids = await fetchWabaPhoneNumberIds({
      graphBaseUrl: this.options.graphBaseUrl,
      graphVersion: this.options.graphVersion,
      wabaId,
      accessToken,
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    return ids.includes(phoneNumberId);
  }

  /**
   * The approved template of that name and language. A miss in a cached list is checked against
   * Meta's current one: the template may have been approved since.
   */
  async findApproved(
    tenantId: string,
    wabaId: string,
    accessToken: string,
    template: { name: string; language: string },
  ): Promise<ApprovedTemplate | undefined> {
    const matches = (t: ApprovedTemplate) => t.name === template.name && t.language === template.language;
    const listed = await this.list(tenantId, wabaId, accessToken);
    const found = listed.templates.find(matches);
    if (found || !listed.cached) return found;
    return (await this.list(tenantId, wabaId, accessToken, { refresh: true })).templates.find(matches);
  }

  private async readCache(tenantId: string, wabaId: string): Promise<TemplateList | undefined> {
    const { Item } = await this.options.db.send(
      new GetCommand({ TableName: this.options.tableName, Key: templateCacheKeys.list(tenantId, wabaId) }),
    );
    if (!Item || typeof Item.fresh_until !== 'number' || Item.fresh_until <= this.now().getTime()) {
      return undefined;
    }
    return {
      templates: Array.isArray(Item.templates) ? (Item.templates as ApprovedTemplate[]) : [],
      fetched_at: String(Item.fetched_at),
      cached: true,
    };
  }
}
