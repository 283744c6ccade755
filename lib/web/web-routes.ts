import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiJson } from '../docs/openapi.ts';
import { NotFoundError } from '../errors.ts';
import { header, json } from '../http/http-response.ts';
import type { ClientRepository } from '../tenants/client-repository.ts';
import { webAssets } from './assets.generated.ts';
import { htmlResponse, securityHeaders } from './html.ts';
import { preferredLanguage } from './i18n.ts';
import { consolePage } from './pages/console-page.ts';
import { docsPage } from './pages/docs-page.ts';
import { landingPage, notFoundPage } from './pages/landing-page.ts';
import { publicStatus } from './public-status.ts';

export interface WebDeps {
  clients: Pick<ClientRepository, 'findBySlug'>;
  publicBaseUrl?: string | undefined;
}

type WebRoute = (event: APIGatewayProxyEventV2, deps: WebDeps) => Promise<APIGatewayProxyStructuredResultV2>;

const param = (event: APIGatewayProxyEventV2, name: string) => event.pathParameters?.[name] ?? '';

/** A landing slug is 26 lowercase alphanumerics; anything else is no tenant's. */
const SLUG_PATTERN = /^[a-z0-9]{26}$/;

async function clientOf(event: APIGatewayProxyEventV2, deps: WebDeps) {
  const slug = param(event, 'slug');
  return SLUG_PATTERN.test(slug) ? deps.clients.findBySlug(slug) : undefined;
}

export const webRoutes: Record<string, WebRoute> = {
  'GET /client/{slug}': async (event, deps) => {
    const client = await clientOf(event, deps);
    if (!client) return htmlResponse(404, notFoundPage(preferredLanguage(header(event, 'accept-language'))));
    return htmlResponse(200, landingPage({ slug: client.slug, status: publicStatus(client) }));
  },
  'GET /client/{slug}/status': async (event, deps) => {
    const client = await clientOf(event, deps);
    if (!client) throw new NotFoundError('no such page');
    return json(200, publicStatus(client));
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
