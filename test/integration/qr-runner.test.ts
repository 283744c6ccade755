import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { shardLeaseKeys } from '../../lib/qr/shard-lease.ts';
import { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';
import { clientKeys } from '../../lib/tenants/client.ts';
import {
  aws,
  command,
  commandUrl,
  eventually,
  freshQueues,
  inboundEvents,
  linkedTenant,
  running,
  startRunner,
  statuses,
  stopRunners,
  tableName,
} from '../support/qr-runner-harness.ts';

/** The QR runner's own code on the emulators (test/support/qr-runner-harness.ts). */
afterEach(stopRunners);

describe('a QR runner holding its shard', () => {
  it('shows the QR, links on scan, and puts a customer message on the inbound queue as channel qr', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    startRunner(whatsapp, 'task-a');
    const tenantId = await linkedTenant(whatsapp, '34611000001');
    expect((await statuses.readStatus(tenantId))?.phone_number).toBe('34611000001');

    whatsapp.receive('34611000001', '34699000001', '¿Abrís el domingo?', { id: 'sim_m1' });
    whatsapp.receive('34611000001', '34699000002', 'hola', { chatKind: 'status' });
    const [event] = await eventually(async () => {
      const events = await inboundEvents();
      return events.length ? events : undefined;
    }, 'the inbound event');
    expect(event).toMatchObject({
      kind: 'message',
      channel: 'qr',
      tenant_id: tenantId,
      phone_number_id: `qr:${tenantId}`,
      contact: { key: '34699000001', wa_id: '34699000001' },
      message: { id: 'sim_m1', type: 'text', text: '¿Abrís el domingo?' },
    });
    expect(await inboundEvents()).toEqual([]); // the status broadcast was not put on the queue
  });

  it('sends a reply once although the command is delivered twice, and reports it sent', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    const { telemetry } = startRunner(whatsapp, 'task-a');
    const tenantId = await linkedTenant(whatsapp, '34611000002');
    const send = await command({
      kind: 'send',
      tenant_id: tenantId,
      to: '34699000003',
      text: 'Abrimos a las 9',
    });
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: commandUrl, MessageBody: JSON.stringify(send) }));

    await eventually(() => telemetry.total('QrCommandsSent') === 1 || undefined, 'the send');
    const statusesSeen = await eventually(async () => {
      const events = await inboundEvents();
      return events.length ? events : undefined;
    }, 'the sent status');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the duplicate has been looked at
    expect(whatsapp.sent('34611000002').map(({ to, text }) => ({ to, text }))).toEqual([
      { to: '34699000003', text: 'Abrimos a las 9' },
    ]);
    expect(statusesSeen[0]).toMatchObject({
      kind: 'status',
      contact_key: '34699000003',
      status: { message_id: send.id, status: 'sent' },
    });
  });

  it('drops an expired send as failed, and passes on what the owner typed on the phone', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    startRunner(whatsapp, 'task-a');
    const tenantId = await linkedTenant(whatsapp, '34611000003');
    const late = await command({
      kind: 'send',
      tenant_id: tenantId,
      to: '34699000004',
      text: 'tarde',
      expires_at: new Date(Date.now() - 1_000).toISOString(),
    });
    whatsapp.typeOnPhone('34611000003', '34699000005', 'Te llamo ahora');

    const events = await eventually(async () => {
      const seen = await inboundEvents();
      return seen.length >= 2 ? seen : undefined;
    }, 'two events');
    expect(whatsapp.sent('34611000003')).toEqual([]);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'status',
          status: expect.objectContaining({ message_id: late.id, status: 'failed' }),
        }),
        expect.objectContaining({
          kind: 'owner_message',
          channel: 'qr',
          contact: { key: '34699000005', wa_id: '34699000005' },
        }),
      ]),
    );
  });
});

describe('two runners and one shard', () => {
  it('only one holds it; on SIGTERM it saves and releases, and the other restores the session without a QR', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    const a = startRunner(whatsapp, 'task-a');
    await eventually(() => a.runner.health().phase === 'holding' || undefined, 'task-a holding');
    const b = startRunner(whatsapp, 'task-b');
    const tenantId = await linkedTenant(whatsapp, '34611000004');
    expect(b.runner.health().phase).toBe('acquiring');

    await a.runner.shutdown();
    running.splice(running.indexOf(a.runner), 1);
    await eventually(() => b.runner.health().phase === 'holding' || undefined, 'task-b holding');
    const restored = await eventually(async () => {
      const status = await statuses.readStatus(tenantId);
      return status?.state === 'connected' && status.fencing === 2 ? status : undefined;
    }, 'the session restored by task-b');
    expect(restored.phone_number).toBe('34611000004');
    expect(whatsapp.currentQr(tenantId)).toBeUndefined();
    whatsapp.receive('34611000004', '34699000006', 'sigo aquí');
    await eventually(
      async () => ((await inboundEvents()).length ? true : undefined),
      'the message through task-b',
    );
  });

  it('a runner whose lease is taken mid-session stops its sessions without saving and writes nothing more', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    const a = startRunner(whatsapp, 'task-a');
    const tenantId = await linkedTenant(whatsapp, '34611000005');
    const before = await statuses.readStatus(tenantId);
    whatsapp.sessions.delete(tenantId); // nothing saved so far: a save on stop would show here

    // Another task took the shard (the lease expired during a pause of task-a, say).
    await aws.dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: shardLeaseKeys.lease('0'),
        UpdateExpression: 'SET #owner = :intruder, fencing = fencing + :one, lease_until = :until',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':intruder': 'task-z', ':one': 1, ':until': Date.now() + 60_000 },
      }),
    );
    await eventually(() => a.telemetry.total('QrLeaseLost') >= 1 || undefined, 'the lost lease');
    await eventually(() => a.runner.health().phase === 'acquiring' || undefined, 'task-a acquiring');
    expect(whatsapp.sessions.load(tenantId)).toBeUndefined();
    expect(() => whatsapp.receive('34611000005', '34699000007', 'hola')).toThrow(/no connected session/);
    expect(await statuses.readStatus(tenantId)).toEqual(before);
  });
});

describe('group chats', () => {
  it('are answered only for a tenant that opted in (qr_answer_groups), read from its client record', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    startRunner(whatsapp, 'task-a');
    const optedIn = await linkedTenant(whatsapp, '34611000006');
    await linkedTenant(whatsapp, '34611000007'); // no client record opts it in
    await aws.dynamo.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...clientKeys.profile(optedIn), id: optedIn, qr_answer_groups: true },
      }),
    );
    // The setting is read again at the next membership read.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const group = { chatKind: 'group' as const, chat: '120363000000@g.us' };
    whatsapp.receive('34611000007', '34699000008', 'hola grupo', { ...group, id: 'sim_g_out' });
    whatsapp.receive('34611000006', '34699000008', 'hola grupo', { ...group, id: 'sim_g_in' });
    const events = await eventually(async () => {
      const seen = await inboundEvents();
      return seen.length ? seen : undefined;
    }, 'the group message');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...events, ...(await inboundEvents())].map((e) => (e.message as { id: string }).id)).toEqual([
      'sim_g_in',
    ]);
    expect(events[0]).toMatchObject({ tenant_id: optedIn, contact: { key: '120363000000@g.us' } });
  });
});
