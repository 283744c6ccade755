import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiJson } from '../docs/openapi.ts';
import { NotFoundError, UnauthorizedError } from '../errors.ts';
import { header, json } from '../http/http-response.ts';
import type { QrStatus } from '../qr/qr-status-store.ts';
import type { Client } from '../tenants/client.ts';
import type { ClientRepository } from '../tenants/client-repository.ts';
import { webAssets } from './assets.generated.ts';
import { htmlResponse, securityHeaders } from './html.ts';
import { preferredLanguage } from './i18n.ts';
import { consolePage } from './pages/console-page.ts';
import { docsPage } from './pages/docs-page.ts';
import { landingPage, notFoundPage } from './pages/landing-page.ts';
import { qrPanel } from './pages/qr-panel.ts';
import { publicStatus } from './public-status.ts';
import { SESSION_COOKIE } from './session-store.ts';

export interface WebDeps {
  clients: Pick<ClientRepository, 'findBySlug'>;
  publicBaseUrl?: string | undefined;
  /**
   * QR mode runs on this deployment (a QR runner exists): the landing page offers it without the
   * "not available" hint and, for a QR tenant, shows its QR panel. Off when unset.
   */
  qrModeAvailable?: boolean;
  /** Which tenant a browser session (the cookie's id) speaks for, while it and its key are live. */
  tenantSessions?: { tenantOf(sessionId: string): Promise<string | undefined> };
  /** A QR tenant's session status as its runner last wrote it (QrStatusStore). */
  qrStatus?: { read(tenantId: string): Promise<QrStatus | undefined> };
}

type WebRoute = (event: APIGatewayProxyEventV2, deps: WebDeps) => Promise<APIGatewayProxyStructuredResultV2>;

const param = (event: APIGatewayProxyEventV2, name: string) => event.pathParameters?.[name] ?? '';

/** A landing slug is 26 lowercase alphanumerics; anything else is no tenant's. */
const SLUG_PATTERN = /^[a-z0-9]{26}$/;

async function clientOf(event: APIGatewayProxyEventV2, deps: WebDeps) {
  const slug = param(event, 'slug');
  return SLUG_PATTERN.test(slug) ? deps.clients.findBySlug(slug) : undefined;
}

/** A cookie of the request (API Gateway v2 passes them in `cookies`; a raw header works too). */
function cookieOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const pairs = event.cookies ?? (header(event, 'cookie') ?? '').split(';');
  for (const pair of pairs) {
    const index = pair.indexOf('=');
    if (index > 0 && pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim();
  }
  return undefined;
}

/** A QR tenant's link as its runner reports it (the public status says only connected or not). */
async function qrLinkOf(client: Client, deps: WebDeps) {
  if (client.channel !== 'qr' || !deps.qrStatus) return undefined;
  return deps.qrStatus.read(client.id);
}

export const webRoutes: Record<string, WebRoute> = {
  'GET /client/{slug}': async (event, deps) => {
    const client = await clientOf(event, deps);
    if (!client) return htmlResponse(404, notFoundPage(preferredLanguage(header(event, 'accept-language'))));
    return htmlResponse(
      200,
      landingPage({
        slug: client.slug,
        status: publicStatus(client, await qrLinkOf(client, deps)),
        qrModeAvailable: deps.qrModeAvailable === true,
      }),
    );
  },
  /**
   * The QR panel of a QR tenant's page, as an HTML fragment, for that tenant's own browser session
   * only (the QR links a phone to the tenant's assistant: nobody else may see it).
   */
  'GET /client/{slug}/qr': async (event, deps) => {
    const client = await clientOf(event, deps);
    if (!client || !deps.qrModeAvailable || !deps.qrStatus || !deps.tenantSessions) {
      throw new NotFoundError('no such page');
    }
    const sessionId = cookieOf(event, SESSION_COOKIE);
    const tenantId = sessionId ? await deps.tenantSessions.tenantOf(sessionId) : undefined;
    if (tenantId !== client.id) throw new UnauthorizedError('sign in as this business to see its QR');
    if (client.channel !== 'qr') throw new NotFoundError('this business does not use QR mode');
    const lang = client.language === 'en' ? 'en' : 'es';
    const fragment = await qrPanel(await deps.qrStatus.read(client.id), lang);
    return htmlResponse(200, fragment);
  },
  'GET /client/{slug}/status': async (event, deps) => {
    const client = await clientOf(event, deps);
    if (!client) throw new NotFoundError('no such page');
    return json(200, publicStatus(client, await qrLinkOf(client, deps)));
  },
  'GET /console': async (event) =>
    htmlResponse(200, consolePage({ lang: preferredLanguage(header(event, 'accept-language')) })),
  'GET /web/assets/{hash}/{name}': async (event) => {
    const asset = webAssets[param(event, 'name')];
    if (!asset || asset.hash !== param(event, 'hash')) throw new NotFoundError('no such file');
    return {
      statusCode: 200,
      headers: {
        'content-type': asset.contentType,
        // The URL carries the content hash: a changed file has a new URL.
        'cache-control': 'public, max-age=31536000, immutable',
        ...securityHeaders,
      },
      body: asset.body,
    };
  },
  'GET /openapi.json': async () => ({
    statusCode: 200,
    // Revalidated on every load: a deployment changes it without changing its URL.
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      ...securityHeaders,
    },
    body: openApiJson(),
  }),
  'GET /docs': async (event) =>
    htmlResponse(200, docsPage({ lang: preferredLanguage(header(event, 'accept-language')) })),
};
