import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { allRoutes } from '../../lib/topology.ts';
import { screenshotPath, seriousA11yViolations, startBrowser, type TestBrowser } from '../support/browser.ts';
import { uniqueName } from '../support/emulators.ts';

/**
 * The clickable API documentation, in Debian's Chromium against the local stack over HTTP: /docs
 * renders /openapi.json under the pages' Content-Security-Policy, a route tried without a key is
 * refused, "Authorize" with the operator key makes GET /clients answer 200 with JSON, the key is
 * kept nowhere but the page's memory, and axe finds nothing serious.
 */

const OPERATOR_KEY = 'docs-e2e-operator-key';

let stack: LocalStack;
let browser: TestBrowser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startLocalStack({
      port: 0,
      dynamoEndpoint: inject('dynamoEndpoint'),
      sqsEndpoint: inject('sqsEndpoint'),
      namePrefix: uniqueName('docs'),
      // The demo tenant, so GET /clients has a client to show; answers from its FAQs (no OpenAI).
      env: { OPERATOR_API_KEY: OPERATOR_KEY, OPENAI_API_KEY: '' },
    }),
    startBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.stop();
  await stack?.stop();
});

/**
 * A page that records what the browser refused or threw (a CSP violation shows up here). With
 * `forAxe`, the context lets Playwright inject axe-core: seriousA11yViolations() adds it as an inline
 * script, which the pages' policy (rightly) refuses; the behaviour is checked with the policy on.
 */
async function openDocs(locale: string, forAxe = false) {
  const context = await browser.browser.newContext({
    locale,
    viewport: { width: 1280, height: 900 },
    bypassCSP: forAxe,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // The browser asks for /favicon.ico by itself; the pages have none.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) {
      problems.push(`${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  const response = await page.goto(`${stack.url}/docs`);
  expect(response?.status()).toBe(200);
  await page.locator('details#op-getClients').waitFor();
  return { context, page, problems };
}

const send = async (page: Page, operationId: string) => {
  const operation = page.locator(`details#op-${operationId}`);
  if (!(await operation.evaluate((node) => (node as { open?: boolean }).open))) {
    await operation.locator(':scope > summary').click();
  }
  const result = operation.locator('.result');
  await result.evaluate((node) => {
    (node as unknown as { replaceChildren(): void }).replaceChildren();
  });
  await operation.getByRole('button', { name: /^(Send|Enviar)$/ }).click();
  const status = result.locator('.response-status');
  await status.waitFor();
  return {
    status: Number(await status.getAttribute('data-status')),
    body: (await result.locator('.response-body').textContent()) ?? '',
  };
};

describe('GET /docs in a browser', () => {
  it('is served with the Content-Security-Policy and the document it shows', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const spec = await fetch(`${stack.url}/openapi.json`);
    expect(spec.status).toBe(200);
    expect(spec.headers.get('cache-control')).toBe('no-cache');
    expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\.1\./);
  });

  /** Authorize with the operator key and list the clients; what the viewer showed. */
  async function authorizeAndList(page: Page) {
    await page.getByLabel('Key (operator key)').fill(OPERATOR_KEY);
    await page.locator('form[data-scheme="operatorKey"]').getByRole('button', { name: 'Authorize' }).click();
    await expect.poll(() => page.locator('#auth-status').textContent()).toBe('Authorized: operator key');
    expect(await page.getByLabel('Key (operator key)').inputValue()).toBe('');
    return send(page, 'getClients');
  }

  it('lets the operator authorize with its key and try GET /clients, under the CSP', async () => {
    const { context, page, problems } = await openDocs('en-US');
    try {
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      // Routes grouped by tag, each with its method.
      expect(await page.locator('section.tag h2').allTextContents()).toEqual(
        expect.arrayContaining(['Operator: clients', 'Tenant', 'Web pages']),
      );
      expect(await page.locator('details.operation').count()).toBe(allRoutes().length);
      expect(await page.locator('details#op-getClients .method').textContent()).toBe('GET');

      // Without a key the API refuses, and the viewer shows it.
      const refused = await send(page, 'getClients');
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toMatchObject({ error: expect.any(String) });

      const listed = await authorizeAndList(page);
      expect(listed.status).toBe(200);
      const body = JSON.parse(listed.body) as { clients: Array<{ id: string }>; count: number };
      expect(body.count).toBe(body.clients.length);
      expect(body.clients.map((c) => c.id)).toContain(stack.demoClientId);

      // A route with a path parameter: the demo client by its id.
      const one = page.locator('details#op-getClientsById');
      await one.locator(':scope > summary').click();
      await one.getByLabel('id (path, required)').fill(stack.demoClientId!);
      const got = await send(page, 'getClientsById');
      expect(got.status).toBe(200);
      expect(JSON.parse(got.body)).toMatchObject({ id: stack.demoClientId });

      // The key is held in memory only: no web storage, no cookie.
      const stored = await page.evaluate(
        'JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])',
      );
      expect(stored).not.toContain(OPERATOR_KEY);
      expect(JSON.stringify(await context.cookies())).not.toContain(OPERATOR_KEY);

      // Nothing was refused by the Content-Security-Policy and nothing threw; the console's only
      // error is the refused request above (the browser reports a 401 as a failed resource).
      expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('has no serious or critical accessibility violation, with a route tried', async () => {
    const { context, page } = await openDocs('en-US', true);
    try {
      expect((await authorizeAndList(page)).status).toBe(200);
      const violations = await seriousA11yViolations(page);
      expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
      // The top of the page down to the route just tried: the authorization and GET /clients' answer.
      await page.evaluate('window.scrollTo(0, 0)');
      const tried = await page.locator('details#op-getClients').boundingBox();
      await page.screenshot({
        path: screenshotPath('docs.png'),
        fullPage: true,
        clip: { x: 0, y: 0, width: 1280, height: Math.ceil((tried?.y ?? 0) + (tried?.height ?? 900) + 16) },
      });
    } finally {
      await context.close();
    }
  });

  it('speaks Spanish by default', async () => {
    const { context, page, problems } = await openDocs('es-ES');
    try {
      expect(await page.locator('html').getAttribute('lang')).toBe('es');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Documentación de la API');
      await page.getByLabel('Clave (clave del operador)').fill(OPERATOR_KEY);
      await page
        .locator('form[data-scheme="operatorKey"]')
        .getByRole('button', { name: 'Autorizar' })
        .click();
      expect((await send(page, 'getHealth')).status).toBe(200);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
    const axe = await openDocs('es-ES', true);
    try {
      const violations = await seriousA11yViolations(axe.page);
      expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    } finally {
      await axe.context.close();
    }
  });
});
