import { describe, expect, it } from 'vitest';
import { type StartBannerInput, startBanner } from '../../infra/local/start-banner.ts';

/** What `npm start` prints: generated keys shown (a newcomer needs them), keys the user gave hidden. */

const secrets = {
  OPERATOR_API_KEY: 'op_generatedOperatorKey',
  META_APP_SECRET: 'generatedappsecret0123',
  META_VERIFY_TOKEN: 'verify_generatedToken',
};

const input = (overrides: Partial<StartBannerInput> = {}): StartBannerInput => ({
  url: 'http://127.0.0.1:3000',
  dataDir: '.data',
  startedMs: Date.now(),
  secrets,
  userEnv: {},
  simulator: true,
  sesUrl: 'http://127.0.0.1:40123',
  demo: {
    id: 'cl_demo',
    name: 'Restaurante La Plaza',
    phone_number: '+15555550100',
    phone_number_id: '100000000000001',
  },
  ...overrides,
});

describe('the start banner', () => {
  it('says where the web pages are: the console, the demo tenant page and the API docs', () => {
    const demo = { ...input().demo!, landing_url: 'http://127.0.0.1:3000/client/abcdefghijklmnopqrstuvwxyz' };
    const text = startBanner(input({ demo }));
    expect(text).toContain('Console        http://127.0.0.1:3000/console');
    expect(text).toContain("Demo's page    http://127.0.0.1:3000/client/abcdefghijklmnopqrstuvwxyz");
    expect(text).toContain('API docs       http://127.0.0.1:3000/docs');
    expect(startBanner(input())).not.toContain("Demo's page");
  });

  it('prints the keys it generated on a fresh start, and the operator key in the curl example', () => {
    const text = startBanner(input());
    for (const value of Object.values(secrets)) expect(text).toContain(value);
    expect(text).not.toContain('from the environment');
    expect(text).toContain(
      'curl -H "Authorization: Bearer op_generatedOperatorKey" http://127.0.0.1:3000/clients',
    );
  });

  it('hides only the values the user gave', () => {
    // Given the user set the operator key (the stack then uses it), not the others
    const text = startBanner(
      input({
        userEnv: { OPERATOR_API_KEY: 'my-own-key' },
        secrets: { ...secrets, OPERATOR_API_KEY: 'my-own-key' },
      }),
    );
    expect(text).not.toContain('my-own-key');
    expect(text).toMatch(/Operator key +\(from the environment; not shown\)/);
    expect(text).toContain('Bearer $OPERATOR_API_KEY');
    expect(text).toContain(secrets.META_APP_SECRET);
    expect(text).toContain(secrets.META_VERIFY_TOKEN);
  });

  it('says where the chat page and the e-mail inbox are', () => {
    const text = startBanner(input());
    expect(text).toMatch(/Chat page +http:\/\/127\.0\.0\.1:3000\/simulator/);
    expect(text).toContain('npm run simulate --');
    expect(text).toMatch(/E-mail inbox +http:\/\/127\.0\.0\.1:40123/);
  });

  it('names the demo tenant and its fake number from the stack data, and how to turn it off', () => {
    const text = startBanner(input());
    expect(text).toContain('Restaurante La Plaza');
    expect(text).toContain('+15555550100');
    expect(text).toContain('+15555550100 (phone_number_id 100000000000001): a fake number');
    expect(text).toContain('DEMO_TENANT=off');
    expect(startBanner(input({ demo: undefined, userEnv: { DEMO_TENANT: 'off' } }))).toMatch(
      /Demo tenant +none \(DEMO_TENANT=off\)/,
    );
  });

  it('says the chat page is off with a real Graph server', () => {
    const text = startBanner(
      input({ simulator: false, userEnv: { GRAPH_API_BASE_URL: 'https://graph.facebook.com' } }),
    );
    expect(text).toMatch(/Chat page +- +\(off: GRAPH_API_BASE_URL is a real Graph server/);
    expect(text).not.toContain('npm run simulate');
    expect(text).toContain('Graph API at https://graph.facebook.com');
  });
});
