import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../lib/errors.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import type { ClientService } from '../../lib/tenants/client-service.ts';
import { INVITATION_VALIDITY_MS, InvitationRepository } from '../../lib/tenants/invitation-repository.ts';
import { generateInvitationToken } from '../../lib/tenants/tenant-tokens.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

let invitations: InvitationRepository;
let service: ClientService;
let scanTable: () => Promise<Record<string, unknown>[]>;
let phone = 700_000_000;

beforeAll(async () => {
  const { aws, tableName } = await freshTable();
  invitations = new InvitationRepository(aws.dynamo, tableName);
  service = testClientService(new ClientRepository(aws.dynamo, tableName), createLocalSecretBox('k'), {
    platformHasOpenAi: false,
  });
  scanTable = async () => (await aws.dynamo.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
});

async function newTenant(): Promise<string> {
  phone++;
  const client = await service.create({
    name: `Tenant ${phone}`,
    phone_number: `+34${phone}`,
    phone_number_id: String(phone),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
  });
  return client.id;
}

describe('given an invitation issued to a tenant', () => {
  it('then it is redeemed once for the tenant, and is worth nothing after', async () => {
    const tenant = await newTenant();
    const now = new Date();
    const issued = await invitations.issueInvitation(tenant, now);
    expect(issued.token).toMatch(/^wti_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
    expect(issued.valid_until).toBe(new Date(now.getTime() + INVITATION_VALIDITY_MS).toISOString());

    expect(await invitations.redeemInvitation(issued.token, now)).toBe(tenant);
    expect(await invitations.redeemInvitation(issued.token, now)).toBeUndefined();
  });

  it('when ten redemptions race, then exactly one gets the tenant', async () => {
    const tenant = await newTenant();
    const { token } = await invitations.issueInvitation(tenant);
    const results = await Promise.all(Array.from({ length: 10 }, () => invitations.redeemInvitation(token)));
    expect(results.filter((r) => r === tenant)).toHaveLength(1);
    expect(results.filter((r) => r === undefined)).toHaveLength(9);
  });

  it('when seven days have passed, then it is refused; a moment before, it is accepted', async () => {
    const issuedAt = new Date('2026-11-02T10:00:00.000Z');
    const expired = await invitations.issueInvitation(await newTenant(), issuedAt);
    expect(
      await invitations.redeemInvitation(
        expired.token,
        new Date(issuedAt.getTime() + INVITATION_VALIDITY_MS),
      ),
    ).toBeUndefined();

    const tenant = await newTenant();
    const valid = await invitations.issueInvitation(tenant, issuedAt);
    expect(
      await invitations.redeemInvitation(
        valid.token,
        new Date(issuedAt.getTime() + INVITATION_VALIDITY_MS - 1000),
      ),
    ).toBe(tenant);
  });

  it('when another is issued, then the previous one is void and only the new one works', async () => {
    const tenant = await newTenant();
    const first = await invitations.issueInvitation(tenant);
    const second = await invitations.issueInvitation(tenant);
    expect(await invitations.redeemInvitation(first.token)).toBeUndefined();
    expect(await invitations.redeemInvitation(second.token)).toBe(tenant);
    // Reissuing after a redemption works too (a lost first key, say).
    const third = await invitations.issueInvitation(tenant);
    expect(await invitations.redeemInvitation(third.token)).toBe(tenant);
  });

  it('when five are issued at once, then exactly one of them can be redeemed', async () => {
    const tenant = await newTenant();
    const issued = await Promise.all(Array.from({ length: 5 }, () => invitations.issueInvitation(tenant)));
    const redeemed = await Promise.all(issued.map(({ token }) => invitations.redeemInvitation(token)));
    expect(redeemed.filter((r) => r === tenant)).toHaveLength(1);
  });

  it('then only its hash is stored', async () => {
    const issued = await invitations.issueInvitation(await newTenant());
    const items = JSON.stringify(await scanTable());
    expect(items).not.toContain(issued.token.slice(-32));
    expect(items).toContain(issued.invitation_id);
  });
});

describe('given a token that is no pending invitation', () => {
  it('then malformed, never issued, wrong-secret, used and expired tokens all answer undefined', async () => {
    const tenant = await newTenant();
    const now = new Date();
    const used = await invitations.issueInvitation(tenant, now);
    await invitations.redeemInvitation(used.token, now);
    const pending = await invitations.issueInvitation(await newTenant(), now);
    const wrongSecret = `wti_${pending.invitation_id}_${generateInvitationToken().token.slice(-32)}`;
    const expired = await invitations.issueInvitation(
      await newTenant(),
      new Date(now.getTime() - INVITATION_VALIDITY_MS),
    );
    for (const token of [
      undefined,
      '',
      pending.token.slice(0, -1),
      generateInvitationToken().token,
      wrongSecret,
      used.token,
      expired.token,
    ]) {
      expect(await invitations.redeemInvitation(token, now)).toBeUndefined();
    }
    expect(await invitations.redeemInvitation(pending.token, now)).toBeDefined();
  });

  it('then no invitation is issued to a tenant that does not exist or was deleted', async () => {
    await expect(invitations.issueInvitation('cl_doesnotexist0000')).rejects.toBeInstanceOf(NotFoundError);
    const tenant = await newTenant();
    await service.deactivate(tenant);
    await expect(invitations.issueInvitation(tenant)).rejects.toBeInstanceOf(NotFoundError);
  });
});
