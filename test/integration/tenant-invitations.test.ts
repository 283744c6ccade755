import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminApiHandler } from '../../functions/admin-api.ts';
import { type RunningEmulator, startSes } from '../../infra/local/emulators.ts';
import { createSesClient } from '../../lib/aws/ses-client.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { createSesMailer, type Mailer, senderSettings } from '../../lib/email/mailer.ts';
import { RetentionStore } from '../../lib/retention/retention-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { INVITATION_VALIDITY_MS, InvitationRepository } from '../../lib/tenants/invitation-repository.ts';
import { generateInvitationToken } from '../../lib/tenants/tenant-tokens.ts';
import { apiEvent } from '../support/api-events.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';
import { TEST_PUBLIC_BASE_URL, tenantApiDeps } from '../support/tenant-api-deps.ts';

/**
 * Inviting a business and its first key, through the admin API handler: the e-mail goes through the
 * real SES v2 client to a real aws-ses-v2-local, and the tests read what it received from its store.
 */

const OPERATOR_KEY = 'op_test_key_invitations_0123456789';
const FROM = 'invitaciones@wa.example.test';

interface StoredEmail {
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
}

let ses: RunningEmulator;
let handler: ReturnType<typeof createAdminApiHandler>;
let invitations: InvitationRepository;
let workingMailer: Mailer;
let unreachableMailer: Mailer;
/** Which mailer the handler's onboarding sends with (switched by the failure tests). */
let currentMailer: () => Mailer;

type CallOptions = Parameters<typeof apiEvent>[2];

async function call(method: string, path: string, options: CallOptions = {}, key = OPERATOR_KEY) {
  const res = await handler(
    apiEvent(method, path, {
      ...options,
      headers: { authorization: `Bearer ${key}`, ...(options?.headers ?? {}) },
    }),
  );
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null'), raw: res.body ?? '' };
}

/** The public exchange: no Authorization header at all. */
async function accept(token: unknown) {
  const res = await handler(apiEvent('POST', '/invitations/accept', { body: { token } }));
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null'), raw: res.body ?? '' };
}

let phoneSeq = 610_000_000;
const newClient = (overrides: Record<string, unknown> = {}) => {
  phoneSeq++;
  return {
    name: `Restaurante La Plaza ${phoneSeq}`,
    phone_number: `+34${phoneSeq}`,
    phone_number_id: String(phoneSeq),
    faqs: laPlazaFaqs,
    email: `owner-${phoneSeq}@example.com`,
    ...overrides,
  };
};

async function storedEmails(): Promise<StoredEmail[]> {
  const response = await fetch(`${ses.endpoint}/store`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { emails: StoredEmail[] }).emails;
}

async function emailsTo(address: string): Promise<StoredEmail[]> {
  return (await storedEmails()).filter((email) => email.destination.to.includes(address));
}

/** The token in the latest invitation link sent to `address`. */
async function latestToken(address: string): Promise<string> {
  const emails = await emailsTo(address);
  expect(emails.length).toBeGreaterThan(0);
  const text = emails.at(-1)!.body.text ?? '';
  const match = /[?&]invite=([^\s&"<]+)/.exec(text);
  expect(match, `no invitation link in: ${text}`).not.toBeNull();
  return decodeURIComponent(match![1]!);
}

/** A client created with an e-mail, and the token its invitation carried. */
async function invitedClient(overrides: Record<string, unknown> = {}) {
  const created = await call('POST', '/clients', { body: newClient(overrides) });
  expect(created.status).toBe(201);
  return { client: created.body, token: await latestToken(created.body.email) };
}

beforeAll(async () => {
  ses = await startSes();
  const { aws, tableName } = await freshTable();
  const repository = new ClientRepository(aws.dynamo, tableName);
  const secrets = createLocalSecretBox('test-local-secret-key');
  const service = testClientService(repository, secrets, { platformHasOpenAi: false });
  invitations = new InvitationRepository(aws.dynamo, tableName);

  const sender = senderSettings({ SES_FROM_ADDRESS: FROM });
  if (!sender.configured) throw new Error(sender.reason);
  workingMailer = createSesMailer(
    createSesClient({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_SESV2: ses.endpoint }),
    sender,
  );
  unreachableMailer = createSesMailer(
    createSesClient({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_SESV2: 'http://127.0.0.1:9' }),
    sender,
  );
  currentMailer = () => workingMailer;

  handler = createAdminApiHandler(async () => ({
    service,
    conversations: new ConversationStore(aws.dynamo, tableName),
    purge: {
      clients: repository,
      store: new RetentionStore(aws.dynamo, tableName),
      secrets,
      openai: { deleteConversation: async () => false, deleteVectorStore: async () => false },
      platformOpenAiKey: async () => undefined,
    },
    operatorKey: OPERATOR_KEY,
    ...tenantApiDeps({
      dynamo: aws.dynamo,
      tableName,
      service,
      secrets,
      mailer: { send: (message) => currentMailer().send(message) },
      // Many refused tokens come from one address in this file: the limiter is not what is tested.
      authFailureLimit: 10_000,
    }),
  }));
});

beforeEach(() => {
  currentMailer = () => workingMailer;
});

afterAll(async () => {
  await ses?.stop();
});

describe('given a new client with an e-mail', () => {
  it('when the operator creates it in Spanish, then SES receives the invitation with the landing link and the next steps', async () => {
    const body = newClient({ language: 'es', name: 'Restaurante La Plaza' });
    const created = await call('POST', '/clients', { body });
    expect(created.status).toBe(201);

    const emails = await emailsTo(body.email);
    expect(emails).toHaveLength(1);
    const [email] = emails;
    expect(email!.from).toBe(FROM);
    expect(email!.destination.to).toEqual([body.email]);
    expect(email!.subject).toBe('Restaurante La Plaza: tu asistente de WhatsApp te espera');

    const token = await latestToken(body.email);
    expect(token).toMatch(/^wti_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
    const link = `${TEST_PUBLIC_BASE_URL}/client/${created.body.slug}?invite=${encodeURIComponent(token)}`;
    expect(email!.body.text).toContain(link);
    expect(email!.body.html).toContain(link);
    expect(email!.body.text).toContain('Qué hacer después');
    expect(email!.body.html).toContain('Qué hacer después');
    expect(email!.body.text).toContain('Probar conexión');

    expect(created.body.invitation).toEqual({
      status: 'sent',
      to: body.email,
      sent_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      reason: null,
    });
    // The view never carries the token itself.
    expect(created.raw).not.toContain(token);
    const read = await call('GET', `/clients/${created.body.id}`);
    expect(read.body.invitation.status).toBe('sent');
    expect(read.body.invitation.to).toBe(body.email);
  });

  it('when the operator creates it in English, then the subject and the steps are in English', async () => {
    const body = newClient({ language: 'en', name: 'The Corner Cafe' });
    const created = await call('POST', '/clients', { body });
    expect(created.status).toBe(201);

    const [email] = await emailsTo(body.email);
    expect(email!.subject).toBe('The Corner Cafe: your WhatsApp assistant is waiting for you');
    expect(email!.from).toBe(FROM);
    expect(email!.body.text).toContain('What to do next');
    expect(email!.body.html).toContain('What to do next');
    expect(email!.body.text).not.toContain('Qué hacer después');
    const token = await latestToken(body.email);
    const link = `${TEST_PUBLIC_BASE_URL}/client/${created.body.slug}?invite=${encodeURIComponent(token)}`;
    expect(email!.body.text).toContain(link);
    expect(email!.body.html).toContain(link);
  });

  it('when SES cannot be reached, then the client is still created (201) with a failed invitation and its reason', async () => {
    currentMailer = () => unreachableMailer;
    const body = newClient();
    const created = await call('POST', '/clients', { body });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^cl_/);
    expect(created.body.invitation).toMatchObject({ status: 'failed', to: body.email, sent_at: null });
    expect(created.body.invitation.reason).toEqual(expect.stringContaining('could not be sent'));
    expect(await emailsTo(body.email)).toEqual([]);

    const read = await call('GET', `/clients/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.invitation.status).toBe('failed');
    expect(read.body.invitation.reason).toBe(created.body.invitation.reason);
  });

  it('when SES cannot be reached on a resend, then 502 says the invitation was not sent and why', async () => {
    const { client } = await invitedClient();
    currentMailer = () => unreachableMailer;
    const resent = await call('POST', `/clients/${client.id}/invitation`);
    expect(resent.status).toBe(502);
    expect(resent.body).toMatchObject({
      error: 'invitation_not_sent',
      client_id: client.id,
      invitation: { status: 'failed', to: client.email },
    });
    expect(resent.body.message).toContain('could not be sent');
    expect((await call('GET', `/clients/${client.id}`)).body.invitation.status).toBe('failed');
  });
});

describe('given a new client without an e-mail', () => {
  it('then no invitation is sent and the view says not_requested; inviting it is refused with 400', async () => {
    const body = newClient({ email: undefined });
    const before = (await storedEmails()).length;
    const created = await call('POST', '/clients', { body });
    expect(created.status).toBe(201);
    expect(created.body.invitation).toEqual({
      status: 'not_requested',
      to: null,
      sent_at: null,
      reason: null,
    });
    expect((await storedEmails()).length).toBe(before);

    const invite = await call('POST', `/clients/${created.body.id}/invitation`);
    expect(invite.status).toBe(400);
    expect(invite.body.details.map((d: { field: string }) => d.field)).toContain('email');
  });
});

describe('given an invitation that was resent', () => {
  it('when the operator asks for a new one, then a second e-mail arrives and only its token works', async () => {
    const { client, token: first } = await invitedClient();
    const resent = await call('POST', `/clients/${client.id}/invitation`);
    expect(resent.status).toBe(201);
    expect(resent.body).toMatchObject({
      client_id: client.id,
      invitation: { status: 'sent', to: client.email },
    });

    expect(await emailsTo(client.email)).toHaveLength(2);
    const second = await latestToken(client.email);
    expect(second).not.toBe(first);

    const old = await accept(first);
    expect(old.status).toBe(410);
    const fresh = await accept(second);
    expect(fresh.status).toBe(201);
    expect(fresh.body.client_id).toBe(client.id);
  });
});

describe('POST /invitations/accept', () => {
  it('given a valid token, when it is accepted, then 201 with the first key, which authenticates GET /tenant for that tenant only', async () => {
    const { client, token } = await invitedClient();
    const other = await invitedClient();

    const accepted = await accept(token);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({
      client_id: client.id,
      key_id: expect.stringMatching(/^[0-9A-Za-z]{10}$/),
      api_key: expect.stringMatching(/^wta_test_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/),
    });

    const me = await call('GET', '/tenant', {}, accepted.body.api_key);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(client.id);
    expect(me.body.id).not.toBe(other.client.id);
    const keys = await call('GET', '/tenant/api-keys', {}, accepted.body.api_key);
    expect(keys.body.api_keys.map((k: { key_id: string }) => k.key_id)).toEqual([accepted.body.key_id]);
    // It is the only key shown: the operator's list has its id, never the key itself.
    const listed = await call('GET', `/clients/${client.id}/api-keys`);
    expect(listed.raw).toContain(accepted.body.key_id);
    expect(listed.raw).not.toContain(accepted.body.api_key);
    // Not an operator key, and no key of the other tenant.
    expect((await call('GET', `/clients/${other.client.id}`, {}, accepted.body.api_key)).status).toBe(403);
    const otherKeys = await call('GET', `/clients/${other.client.id}/api-keys`);
    expect(otherKeys.body.api_keys).toEqual([]);
  });

  it('given a token already used, when it is presented again, then 410 with the same body as a never-issued, a malformed and an expired token', async () => {
    const { token } = await invitedClient();
    expect((await accept(token)).status).toBe(201);

    const reused = await accept(token);
    const neverIssued = await accept(generateInvitationToken().token);
    const malformed = await accept('not-an-invitation');
    const wrongSecret = await accept(`${token.slice(0, -32)}${generateInvitationToken().token.slice(-32)}`);
    const { client: stale } = await invitedClient();
    const expired = await invitations.issueInvitation(
      stale.id,
      new Date(Date.now() - INVITATION_VALIDITY_MS - 60_000),
    );
    const tooLate = await accept(expired.token);

    expect(reused.status).toBe(410);
    expect(reused.body.error).toBe('gone');
    expect(reused.body.message).toEqual(expect.any(String));
    for (const answer of [neverIssued, malformed, wrongSecret, tooLate]) {
      expect(answer.status).toBe(reused.status);
      expect(answer.raw).toBe(reused.raw);
    }
  });

  it('given an invitation issued more than seven days ago, when it is accepted, then 410 and no key is created', async () => {
    const { client } = await invitedClient();
    const expired = await invitations.issueInvitation(
      client.id,
      new Date(Date.now() - INVITATION_VALIDITY_MS - 1000),
    );
    const answer = await accept(expired.token);
    expect(answer.status).toBe(410);
    expect((await call('GET', `/clients/${client.id}/api-keys`)).body.api_keys).toEqual([]);
  });

  it('given a tenant that already holds two keys, when its invitation is accepted, then 409; after a key is revoked the same token works', async () => {
    const { client, token } = await invitedClient();
    const first = await call('POST', `/clients/${client.id}/api-keys`);
    const second = await call('POST', `/clients/${client.id}/api-keys`);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);

    const refused = await accept(token);
    expect(refused.status).toBe(409);
    expect(refused.raw).not.toContain('wta_');

    const revoked = await call('DELETE', `/clients/${client.id}/api-keys/${first.body.key_id}`);
    expect(revoked.status).toBe(200);
    const accepted = await accept(token);
    expect(accepted.status).toBe(201);
    expect(accepted.body.client_id).toBe(client.id);
    expect((await call('GET', '/tenant', {}, accepted.body.api_key)).body.id).toBe(client.id);
    // Used now: once.
    expect((await accept(token)).status).toBe(410);
  });

  it.each([
    ['no token', {}],
    ['an empty token', { token: '' }],
    ['a token that is not a string', { token: 42 }],
    ['an unknown field', { token: 'x', extra: true }],
  ])('given %s, then 400', async (_, body) => {
    const res = await handler(apiEvent('POST', '/invitations/accept', { body }));
    expect(res.statusCode).toBe(400);
  });
});
