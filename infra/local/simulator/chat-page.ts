import { readFileSync } from 'node:fs';
import { requestUrl } from './http.ts';
import type { SimulatorPart } from './types.ts';

/**
 * The chat page at `/simulator`: the static files of chat-page/ served as they are, under a CSP
 * that allows only our own script and style (no inline code). The one dynamic part is this run's
 * chat API token, inserted into the page's `<meta name="simulator-token">` when it is served. The
 * media the customer sent are shown from blob: URLs (the page fetches their bytes with the token).
 *
 * The files are found next to this module (import.meta.url), from the TypeScript sources as from a
 * bundle that copies `chat-page/` beside its output.
 */

export const CHAT_PAGE_DIR = new URL('./chat-page/', import.meta.url);
const TOKEN_PLACEHOLDER = '__SIMULATOR_TOKEN__';

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src data: blob:; media-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface StaticFile {
  contentType: string;
  body: string;
}

/** Read once per process, on the first simulator's creation: a missing file fails the start, not a request. */
let files: { page: string; assets: Map<string, StaticFile> } | undefined;

function loadFiles(): NonNullable<typeof files> {
  if (files) return files;
  const read = (name: string) => readFileSync(new URL(name, CHAT_PAGE_DIR), 'utf8');
  const page = read('index.html');
  if (!page.includes(`content="${TOKEN_PLACEHOLDER}"`)) {
    throw new Error(`chat-page/index.html has no simulator-token meta tag with ${TOKEN_PLACEHOLDER}`);
  }
  files = {
    page,
    assets: new Map([
      ['/simulator/chat.css', { contentType: 'text/css; charset=utf-8', body: read('chat.css') }],
      ['/simulator/chat.js', { contentType: 'text/javascript; charset=utf-8', body: read('chat.js') }],
      ['/simulator/phone.js', { contentType: 'text/javascript; charset=utf-8', body: read('phone.js') }],
    ]),
  };
  return files;
}

const escapeAttribute = (value: string) => value.replace(/[&"<>]/g, (char) => `&#${char.charCodeAt(0)};`);

export function createChatPage(options: { token: string }): SimulatorPart {
  const { page: template, assets } = loadFiles();
  const page = template.replace(TOKEN_PLACEHOLDER, escapeAttribute(options.token));
  return async (req, res) => {
    if (req.method !== 'GET') return false;
    const path = requestUrl(req).pathname;
    const file =
      path === '/simulator' || path === '/simulator/'
        ? { contentType: 'text/html; charset=utf-8', body: page }
        : assets.get(path);
    if (!file) return false;
    res.writeHead(200, { 'content-type': file.contentType, ...SECURITY_HEADERS });
    res.end(file.body);
    return true;
  };
}
