import { describe, expect, it } from 'vitest';
import { type OwnerMessageEvent, queueEventSchema } from '../../lib/conversation/inbound-event.ts';
import type { FifoMessage } from '../../lib/queue/sqs-publisher.ts';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { metaExample, metaJson } from '../support/fixtures.ts';

/**
 * `smb_message_echoes` (coexistence numbers): every echo of what a person sent from the WhatsApp
 * Business app becomes an `owner_message` queue event for the customer it went to, keyed as the
 * webhook keys customers; a bad echo costs only itself.
 */

const APP_SECRET = 'echo-app-secret';
const PHONE_NUMBER_ID = '631261586727899';

async function deliver(body: unknown) {
  const queued: FifoMessage[] = [];
  const rawBody = Buffer.from(metaJson(body));
  const report = await receiveWebhook(
    { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
    {
      appSecret: APP_SECRET,
      router: createCachedTenantRouter(async (id) =>
        id === PHONE_NUMBER_ID ? { client_id: 'cl_plaza', active: true } : undefined,
      ),
      enqueue: async (messages) => {
        queued.push(...messages);
      },
      now: () => new Date('2026-11-24T10:05:00.000Z'),
    },
  );
  return { report, queued, events: queued.map((m) => queueEventSchema.parse(JSON.parse(m.body))) };
}

const echoesOf = (body: Record<string, any>) => body.entry[0].changes[0].value.message_echoes as unknown[];

describe('a delivery of smb_message_echoes', () => {
  it("queues an owner_message for the customer of Meta's example, in that customer's group", async () => {
    const { report, queued, events } = await deliver(metaExample('smb_message_echo_text'));

    expect(report).toMatchObject({ echoes: 1, enqueued: 1, invalidItems: 0, ignoredChanges: 0 });
    expect(events).toEqual([
      {
        v: 1,
        kind: 'owner_message',
        tenant_id: 'cl_plaza',
        phone_number_id: PHONE_NUMBER_ID,
        contact: { key: '34600111222', wa_id: '34600111222' },
        message: { id: 'wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBJFQ0hPX0ZST01fVEhFX0FQUAA=', timestamp: 1795560300 },
        channel: 'cloud_api',
        received_at: '2026-11-24T10:05:00.000Z',
      } satisfies OwnerMessageEvent,
    ]);
    // Beside the customer's own FIFO group: handled while an answer to them is in flight.
    expect(queued[0]).toMatchObject({
      groupId: 'cl_plaza:34600111222:owner',
      deduplicationId: expect.stringMatching(/^echo:/),
    });
    // What the person wrote stays out of the queue: only that they wrote matters.
    expect(queued[0]!.body).not.toContain('Marta');
  });

  it('keys the customer on the business-scoped user id when the echo carries one', async () => {
    const body = metaExample('smb_message_echo_text');
    Object.assign(echoesOf(body)[0] as object, { to_user_id: 'ES.1349120865530274' });

    const { events } = await deliver(body);

    expect(events[0]).toMatchObject({
      contact: { key: 'ES.1349120865530274', wa_id: '34600111222', user_id: 'ES.1349120865530274' },
    });
  });

  it('queues every echo of the change, media, edits and revokes too, and rejects only a bad one', async () => {
    const body = metaExample('smb_message_echo_text');
    const [text] = echoesOf(body) as Record<string, unknown>[];
    body.entry[0].changes[0].value.message_echoes = [
      text,
      {
        ...text,
        id: 'wamid.ECHO.IMAGE',
        type: 'image',
        text: undefined,
        image: { id: '1', caption: 'Carta' },
      },
      { ...text, id: 'wamid.ECHO.EDIT', type: 'edit', text: undefined, edit: { original_message_id: 'x' } },
      { ...text, id: 'wamid.ECHO.NOBODY', to: undefined },
      { ...text, id: 'wamid.ECHO.BADTIME', timestamp: 'yesterday' },
    ];

    const { report, events } = await deliver(body);

    expect(events.map((e) => e.kind === 'owner_message' && e.message.id)).toEqual([
      text!.id,
      'wamid.ECHO.IMAGE',
      'wamid.ECHO.EDIT',
    ]);
    expect(report).toMatchObject({ echoes: 5, enqueued: 3, invalidItems: 2 });
  });

  it('still ignores fields it does not route', async () => {
    const { report, queued } = await deliver(metaExample('non_messages_field_template_status'));
    expect(report.ignoredChanges).toBe(1);
    expect(queued).toEqual([]);
  });
});
