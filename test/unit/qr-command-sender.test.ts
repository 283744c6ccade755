import { describe, expect, it } from 'vitest';
import { SendFailure } from '../../lib/conversation/ports.ts';
import type { QrCommand, QrCommandQueue } from '../../lib/qr/commands.ts';
import { QrCommandSender } from '../../lib/qr/qr-sender.ts';
import { qrPhoneNumberId, shardOf } from '../../lib/qr/shards.ts';

/** The QR sender's commands and its error verdicts, on an in-memory command queue. */
function queue(fail?: unknown) {
  const sent: { shard: string; command: QrCommand }[] = [];
  const commands: QrCommandQueue = {
    async send(shard, command) {
      if (fail) throw fail;
      sent.push({ shard, command });
    },
  };
  return { sent, commands };
}

const now = new Date('2026-12-02T10:00:00Z');
const request = (to: { wa_id?: string; user_id?: string }) => ({
  phoneNumberId: qrPhoneNumberId('tenant-1'),
  accessToken: '',
  to,
  text: 'Abrimos a las 13:00',
  replyTo: 'msg-1',
});

describe('QrCommandSender', () => {
  it('given a reply, when it is sent, then one send command with an id, the number and an expiry goes to the tenant shard', async () => {
    const { sent, commands } = queue();
    const sender = new QrCommandSender(commands, 4, { now: () => now, newId: () => 'abc', ttlMs: 60_000 });
    const { messageId } = await sender.sendText(request({ wa_id: '34600111222' }));
    expect(messageId).toBe('qr.abc');
    expect(sent).toEqual([
      {
        shard: shardOf('tenant-1', 4),
        command: {
          v: 1,
          id: 'qr.abc',
          kind: 'send',
          tenant_id: 'tenant-1',
          to: '34600111222',
          text: 'Abrimos a las 13:00',
          reply_to: 'msg-1',
          expires_at: '2026-12-02T10:01:00.000Z',
        },
      },
    ]);
  });

  it('given a recipient known only by a business-scoped id, when it is sent, then it is a permanent failure', async () => {
    const sender = new QrCommandSender(queue().commands, 2);
    await expect(sender.sendText(request({ user_id: 'US.1' }))).rejects.toMatchObject({ kind: 'permanent' });
  });

  it('given SQS answering with an error, when it is sent, then it is unavailable (retry later)', async () => {
    const refused = Object.assign(new Error('throttled'), { $metadata: { httpStatusCode: 503 } });
    const sender = new QrCommandSender(queue(refused).commands, 2);
    const failure = await sender.sendText(request({ wa_id: '34600111222' })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SendFailure);
    expect(failure).toMatchObject({ kind: 'unavailable', retryable: true });
  });

  it('given SQS not answering at all, when it is sent, then it is ambiguous (never queued twice)', async () => {
    const sender = new QrCommandSender(queue(new Error('socket hang up')).commands, 2);
    await expect(sender.sendText(request({ wa_id: '34600111222' }))).rejects.toMatchObject({
      kind: 'ambiguous',
    });
  });

  it('given a Cloud API phone number id, when it is sent, then it is refused as a programming error', async () => {
    const sender = new QrCommandSender(queue().commands, 2);
    await expect(sender.sendText({ ...request({ wa_id: '1' }), phoneNumberId: '123456' })).rejects.toThrow(
      TypeError,
    );
  });
});
