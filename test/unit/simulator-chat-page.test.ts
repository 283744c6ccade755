import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_PAGE_DIR } from '../../infra/local/simulator/chat-page.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { APP_SECRET, fakeElement, PHONE_NUMBER_ID } from './simulator-helpers.ts';

/** The chat page: static files served as they are, this run's token in a meta tag, a strict CSP. */

let sim: StandaloneSimulator;

beforeAll(async () => {
  sim = await startStandaloneSimulator({ appSecret: APP_SECRET });
});

afterAll(async () => {
  await sim.stop();
});

const page = () => fetch(`${sim.url}/simulator`);

describe('the chat page', () => {
  it('serves the page with its own script and style only, under a CSP without inline code', async () => {
    const response = await page();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|nonce-/);
    // The customer's media are shown from blob: URLs of bytes the page fetched, never from elsewhere.
    expect(csp).toContain('img-src data: blob:;');
    expect(csp).toContain('media-src blob:;');
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/simulator/chat.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/simulator/chat.css">');
    // No inline script or style: every <script> has a src, and there is no <style> nor style= attribute.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect((await fetch(`${sim.url}/simulator/`)).status).toBe(200);
  });

  it('serves the script and the style with their content types', async () => {
    const script = await fetch(`${sim.url}/simulator/chat.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await script.text();
    expect(source).toContain('document.querySelector(\'meta[name="simulator-token"]\')');
    expect(source).not.toContain('innerHTML');
    const style = await fetch(`${sim.url}/simulator/chat.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await style.text()).toContain('.msg.customer');
  });

  it('serves the files as they are on disk, the page with only the token inserted', async () => {
    const { readFile } = await import('node:fs/promises');
    const onDisk = (name: string) => readFile(new URL(name, CHAT_PAGE_DIR), 'utf8');
    expect(await (await fetch(`${sim.url}/simulator/chat.js`)).text()).toBe(await onDisk('chat.js'));
    expect(await (await fetch(`${sim.url}/simulator/chat.css`)).text()).toBe(await onDisk('chat.css'));
    const served = await (await page()).text();
    expect(served).toBe((await onDisk('index.html')).replace('__SIMULATOR_TOKEN__', sim.simulator.apiToken));
  });

  it('answers other paths under /simulator with 404, and other methods on the page too', async () => {
    expect((await fetch(`${sim.url}/simulator/chat.ts`)).status).toBe(404);
    expect((await fetch(`${sim.url}/simulator/../package.json`)).status).toBe(404);
    expect((await fetch(`${sim.url}/simulator`, { method: 'POST' })).status).toBe(404);
  });

  it('embeds the token in the page for its script to read (no inline script needed)', async () => {
    const html = await (await page()).text();
    expect(html).toContain(`<meta name="simulator-token" content="${sim.simulator.apiToken}">`);
    expect(sim.simulator.apiToken).toMatch(/^[A-Za-z0-9_-]{32,}$/);
  });

  it('runs a page script that sends the token with every API call', async () => {
    // Given the page's own script, run against a stand-in DOM (no browser here) and a recording fetch
    const html = await (await page()).text();
    const script = await (await fetch(`${sim.url}/simulator/chat.js`)).text();
    const token = /<meta name="simulator-token" content="([^"]+)">/.exec(html)?.[1];
    const calls: Array<{ path: string; headers: Record<string, string> }> = [];
    const listeners = new Map<string, (event: unknown) => void>();
    const elements = new Map<string, unknown>();
    const context = createContext({
      document: {
        getElementById: (id: string) => elements.get(id) ?? elements.set(id, fakeElement(listeners)).get(id),
        createElement: () => fakeElement(listeners),
        createTextNode: () => fakeElement(listeners),
        querySelector: (selector: string) =>
          selector === 'meta[name="simulator-token"]' ? { getAttribute: () => token } : null,
      },
      localStorage: { getItem: () => null, setItem: () => undefined },
      setInterval: () => 0,
      fetch: async (path: string, init: { headers?: Record<string, string> } = {}) => {
        calls.push({ path, headers: init.headers ?? {} });
        const body = path.includes('businesses')
          ? { businesses: [{ phone_number_id: PHONE_NUMBER_ID, name: 'Casa Lucía' }] }
          : { messages: [], typing: false, webhook_status: 200 };
        return { ok: true, status: 200, json: async () => body };
      },
    });
    // When it loads, and the person sends a message
    runInContext(script, context);
    await new Promise((resolve) => setTimeout(resolve, 20));
    (elements.get('text') as { value: string }).value = 'hola';
    listeners.get('submit')?.({ preventDefault: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Then every call to the API carried the page's token
    expect(calls.map((call) => call.path.split('?')[0])).toEqual(
      expect.arrayContaining([
        '/simulator/api/businesses',
        '/simulator/api/conversation',
        '/simulator/api/messages',
      ]),
    );
    for (const call of calls)
      expect(call.headers['x-simulator-token'], call.path).toBe(sim.simulator.apiToken);
  });
});

describe('the chat page when the simulator is bundled', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simulator-bundle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds its files next to the bundle (import.meta.url), with chat-page/ copied beside it', async () => {
    // Given the simulator bundled into one file elsewhere, and its static files copied beside it
    const outfile = join(dir, 'simulator.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('../../infra/local/whatsapp-simulator.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      logLevel: 'silent',
    });
    cpSync(fileURLToPath(CHAT_PAGE_DIR), join(dir, 'chat-page'), { recursive: true });
    // When it serves the page
    const bundled = (await import(
      pathToFileURL(outfile).href
    )) as typeof import('../../infra/local/whatsapp-simulator.ts');
    const standalone = await bundled.startStandaloneSimulator({ appSecret: APP_SECRET });
    try {
      const html = await (await fetch(`${standalone.url}/simulator`)).text();
      const script = await fetch(`${standalone.url}/simulator/chat.js`);
      // Then it is the page, with that simulator's token, and its script
      expect(html).toContain(`content="${standalone.simulator.apiToken}"`);
      expect(script.status).toBe(200);
    } finally {
      await standalone.stop();
    }
  });
});
