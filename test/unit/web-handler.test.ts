import { describe, expect, it } from 'vitest';
import { assetUrl } from '../../lib/web/html.ts';
import { apiEvent } from '../support/api-events.ts';

/**
 * The web function as Lambda runs it, with the environment the CDK gives it: a table name and no
 * tenant-secrets key (the pages hold no secrets), so building its dependencies must not need one.
 */
describe('the web function with its deployed environment', () => {
  it('serves the console and its static files without a tenant-secrets key', async () => {
    process.env.TABLE_NAME = 'web-handler-test';
    delete process.env.LOCAL_SECRETS_KEY;
    delete process.env.TENANT_SECRETS_KMS_KEY_ID;
    const { handler } = await import('../../functions/web.ts');
    const page = await handler(apiEvent('GET', '/console', { headers: { 'accept-language': 'en' } }));
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-type']).toMatch(/^text\/html/);
    expect(page.headers?.['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('<html lang="en">');
    const css = await handler(apiEvent('GET', assetUrl('site.css')));
    expect(css.statusCode).toBe(200);
    expect(css.headers?.['content-type']).toMatch(/^text\/css/);
  });
});
