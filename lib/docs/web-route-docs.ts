import type { RouteDoc } from './tenant-route-docs.ts';

/** The entries of docs/api.md for the web pages (HTML, not JSON). */
export const webRouteDocs: Record<string, RouteDoc> = {
  'GET /client/{slug}': {
    summary:
      "A tenant's landing page (HTML): its name and whether the service is active, connected and ready, refreshed every 10 s. `?invite=<token>` accepts an invitation and shows the tenant's first key once; signing in with the key opens the tenant's own panel (configuration, conversations, keys), which works through the `/tenant` routes with a session cookie.",
    responses: '200 HTML; 404 HTML page for an unknown slug (slugs are never listed)',
  },
  'GET /client/{slug}/status': {
    summary: "The landing page's public status, for its refresh.",
    responses:
      '200 `{"name","language","active","channel","connected","assistant_ready","assistant_status"}`; 404',
  },
  'GET /client/{slug}/qr': {
    summary:
      "A QR-mode business's QR panel (an HTML fragment its landing page refreshes every 5 s): the session's state in words, in state `qr` the QR drawn as an SVG with its expiry, the linked number once connected, and the buttons that call `POST /tenant/qr/unlink` and `POST /tenant/qr/start`. For that business's own `wa_session` cookie only; never cached.",
    responses:
      "200 HTML fragment; 401 no session, or another business's; 404 unknown page, a Cloud API business, or QR mode not available here",
  },
  'GET /console': {
    summary:
      'The operator console (HTML): sign in with the operator key; clients with their state, statistics and every operator action, through the operator routes with a session cookie.',
    responses: '200 HTML',
  },
  'GET /web/assets/{hash}/{name}': {
    summary: "The pages' static files (CSS, scripts), addressed by content hash and cached for a year.",
    responses: '200; 404 unknown file or stale hash',
  },
  'GET /openapi.json': {
    summary:
      'This reference as an OpenAPI 3.1 document, generated from the same topology and zod schemas as docs/api.md: every route with its parameters, bodies, responses and security (`operatorKey`, `tenantKey` bearer keys; the `wa_session` cookie of the pages).',
    responses: '200 the OpenAPI document (JSON, `cache-control: no-cache`)',
  },
  'GET /docs': {
    summary:
      'An interactive viewer of `/openapi.json` (HTML): routes grouped by area with their parameters, bodies and responses; "Authorize" with the operator key or a tenant key (kept in the page\'s memory only) and try a route from the browser.',
    responses: '200 HTML',
  },
};
