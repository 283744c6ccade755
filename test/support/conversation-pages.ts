import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { simulatedWabaIdOf } from '../../infra/local/simulator/graph-read-endpoints.ts';
import { SIMULATOR_TOKEN_HEADER } from '../../infra/local/simulator-token.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { seriousA11yViolations, startBrowser, type TestBrowser } from './browser.ts';
import { uniqueName } from './emulators.ts';
import { laPlazaFaqs } from './fixtures.ts';

/**
 * What the browser tests of the conversation behaviours share (web-conversation-settings and
 * web-handoff): the local stack with one business that has a WABA and answers every message at
 * once, its API key, a customer (Ana) who already wrote, and a browser page in Spanish on UTC (so a
 * time on screen can be computed here) — with the calls those tests make to the API and the pages.
 */

// Evaluated in the page by playwright: this file is compiled without the DOM's types.
declare const document: any;

export interface ApiAnswer {
  status: number;
  body: any;
  raw: string;
}

export interface ConversationPages {
  stack: LocalStack;
  page: Page;
  clientId: string;
  apiKey: string;
  /** Ana's contact key (the business-scoped user id the simulator sends). */
  anaContact: string;
  operator(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  tenant(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** A customer writes on WhatsApp; the conversation's contact key, once it is listed. */
  customerWrites(from: string, name: string, text: string): Promise<string>;
  /** The business's landing page, signed in with its key. */
  openLanding(): Promise<void>;
  /** The operator console, signed in with the operator key. */
  openConsole(): Promise<void>;
  /** The page's own status line of a form, once it says something. */
  statusOf(id: string): Promise<string>;
  expectNoSeriousViolations(): Promise<void>;
}

export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The time of day the pages show in es-ES for an instant (the browser runs in UTC). */
export const hhmm = (iso: string) =>
  new Intl.DateTimeFormat('es-ES', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }).format(
    new Date(iso),
  );

/** Starts it all before the file's tests and stops it after them. */
export function conversationPages(options: {
  prefix: string;
  operatorKey: string;
  phoneNumber: string;
  phoneNumberId: string;
  customer: string;
}): ConversationPages {
  let browser: TestBrowser;
  let context: BrowserContext;

  async function call(key: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const res = await fetch(`${f.stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const raw = await res.text();
    return { status: res.status, body: raw ? JSON.parse(raw) : undefined, raw };
  }

  const f = {
    operator: (method, path, body) => call(options.operatorKey, method, path, body),
    tenant: (method, path, body) => call(f.apiKey, method, path, body),

    async customerWrites(from, name, text) {
      const res = await fetch(`${f.stack.url}/simulator/api/messages`, {
        method: 'POST',
        headers: {
          [SIMULATOR_TOKEN_HEADER]: f.stack.simulator!.apiToken,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ phone_number_id: options.phoneNumberId, from, name, text }),
      });
      const sent = (await res.json()) as { webhook_status: number };
      expect(sent.webhook_status, JSON.stringify(sent)).toBe(200);
      const contact = await eventually(async () => {
        const { body } = await f.operator('GET', `/clients/${f.clientId}/conversations`);
        return body.conversations.find((c: { wa_id: string }) => c.wa_id === from)?.contact as
          | string
          | undefined;
      });
      await f.stack.drained();
      return contact;
    },

    async openLanding() {
      await f.page.goto(`${f.stack.url}/client/${(await f.tenant('GET', '/tenant')).body.slug}`);
      await f.page.waitForSelector('#landing[data-ready="true"]');
      if (await f.page.isVisible('#sign-in')) {
        await f.page.fill('#sign-in-key', f.apiKey);
        await f.page.click('#sign-in-button');
      }
      await f.page.waitForSelector('#tenant-panel', { state: 'visible' });
    },

    async openConsole() {
      await f.page.goto(`${f.stack.url}/console`);
      await f.page.waitForSelector('#sign-in:not([hidden]), #workspace:not([hidden])');
      if (await f.page.isVisible('#sign-in')) {
        await f.page.fill('#operator-key', options.operatorKey);
        await f.page.click('#sign-in-form button[type=submit]');
      }
      await f.page.waitForSelector('#workspace:not([hidden])');
    },

    async statusOf(id) {
      await f.page.waitForFunction((el) => document.getElementById(el)?.textContent !== '', id);
      return (await f.page.locator(`#${id}`).textContent()) ?? '';
    },

    async expectNoSeriousViolations() {
      const violations = await seriousA11yViolations(f.page);
      expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    },
  } as ConversationPages;

  beforeAll(async () => {
    [f.stack, browser] = await Promise.all([
      startLocalStack({
        port: 0,
        dynamoEndpoint: inject('dynamoEndpoint'),
        sqsEndpoint: inject('sqsEndpoint'),
        namePrefix: uniqueName(options.prefix),
        seedDemo: false,
        retryDelaySeconds: 1,
        env: { OPERATOR_API_KEY: options.operatorKey, OPENAI_API_KEY: '' },
      }),
      startBrowser(),
    ]);
    const created = await f.operator('POST', '/clients', {
      name: 'Restaurante La Plaza',
      phone_number: options.phoneNumber,
      phone_number_id: options.phoneNumberId,
      faqs: laPlazaFaqs,
      // Every message answered at once: the chats are set up without waiting for a burst.
      reply_delay_seconds: 0,
      // The WhatsApp Business Account its templates are read from and checked against: on the
      // platform's token, the one that holds its number.
      waba_id: simulatedWabaIdOf(options.phoneNumberId),
    });
    expect(created.status, created.raw).toBe(201);
    f.clientId = created.body.id;
    const key = await f.operator('POST', `/clients/${f.clientId}/api-keys`);
    expect(key.status).toBe(201);
    f.apiKey = key.body.api_key;
    f.anaContact = await f.customerWrites(options.customer, 'Ana', laPlazaFaqs[0]!.q);

    context = await browser.browser.newContext({
      viewport: { width: 900, height: 900 },
      locale: 'es-ES',
      timezoneId: 'UTC',
    });
    f.page = await context.newPage();
    // Shorter than the test's own limit, so a wait that fails says which.
    f.page.setDefaultTimeout(15_000);
    f.page.on('dialog', (dialog) => dialog.accept());
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.stop();
    await f.stack?.stop();
  });

  return f;
}
