import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { webAssets } from './assets.generated.ts';
import { escapeHtml } from './escape.ts';

/**
 * Server-rendered HTML: escaping, the page frame, and the headers every page carries. Scripts and
 * styles are files of ours (/web/assets/…), never inline, so the Content-Security-Policy allows no
 * inline script at all; no page may be framed (clickjacking), and no page leaks its URL (which may
 * carry an invitation token) to another site in a Referer.
 */

export { escapeHtml };

/** A tagged template whose interpolations are escaped unless they are `raw(...)`. */
export interface RawHtml {
  readonly html: string;
}
export const raw = (html: string): RawHtml => ({ html });

export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    const rendered = Array.isArray(value)
      ? value.map((v) => (isRaw(v) ? v.html : escapeHtml(v))).join('')
      : isRaw(value)
        ? value.html
        : escapeHtml(value);
    out += rendered + (strings[index + 1] ?? '');
  });
  return raw(out);
}

const isRaw = (value: unknown): value is RawHtml =>
  typeof value === 'object' &&
  value !== null &&
  'html' in value &&
  typeof (value as RawHtml).html === 'string';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const securityHeaders: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** The URL of one of our static files, with its content hash (cached for a year, never stale). */
export function assetUrl(name: string): string {
  const asset = webAssets[name];
  if (!asset) throw new Error(`no web asset ${name}`);
  return `/web/assets/${asset.hash}/${name}`;
}

export interface PageOptions {
  title: string;
  lang: string;
  body: RawHtml;
  /** Our scripts to load (deferred), by asset name. */
  scripts?: string[];
  /** Stylesheets beyond site.css, by asset name. */
  styles?: string[];
}

export function page(options: PageOptions): RawHtml {
  const scripts = (options.scripts ?? []).map(
    (name) => html`<script src="${assetUrl(name)}" defer></script>`,
  );
  const styles = ['site.css', ...(options.styles ?? [])].map(
    (name) => html`<link rel="stylesheet" href="${assetUrl(name)}">`,
  );
  return html`<!doctype html>
<html lang="${options.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title}</title>
${styles}
${scripts}
</head>
<body>
${options.body}
</body>
</html>
`;
}

export function htmlResponse(statusCode: number, body: RawHtml): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...securityHeaders,
    },
    body: body.html,
  };
}
