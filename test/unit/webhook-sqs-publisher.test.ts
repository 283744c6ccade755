import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../lib/errors.ts';
import { logger } from '../../lib/logger.ts';
import { type FifoMessage, publishFifoMessages } from '../../lib/queue/sqs-publisher.ts';
import { fakeSqs } from './webhook-helpers.ts';

/**
 * The FIFO publisher: every message is sent or deliberately dropped on its own. One refused entry
 * never fails its batch or the batches after it; only transient failures make the caller retry.
 */

const message = (index: number, body = `{"n":${index}}`, group = `g${index % 3}`): FifoMessage => ({
  body,
  groupId: group,
  deduplicationId: `msg:wamid.${index}`,
});

const sentIds = (entries: { MessageDeduplicationId?: string | undefined }[]) =>
  entries.map((e) => e.MessageDeduplicationId);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('publishFifoMessages', () => {
  it('given 13 messages and a body SQS refuses first, then the other 12 (both batches) are sent and the refused one is dropped with a WARN of ids only', async () => {
    const sqs = fakeSqs();
    const warn = vi.spyOn(logger, 'warn');
    const messages = [
      message(0, '{"text":"hola \uffff secret"}'),
      ...Array.from({ length: 12 }, (_, i) => message(i + 1)),
    ];
    const outcome = await publishFifoMessages(sqs.client, 'url', messages);
    expect(outcome).toEqual({ sent: 12, refused: 1 });
    expect(sentIds(sqs.accepted).sort()).toEqual(
      messages
        .slice(1)
        .map((m) => m.deduplicationId)
        .sort(),
    );
    const logged = JSON.stringify(warn.mock.calls);
    expect(logged).toContain('msg:wamid.0');
    expect(logged).not.toContain('secret');
  });

  it('given an entry SQS refuses (SenderFault), then it is dropped, not retried, and the others are sent', async () => {
    // The fake refuses surrogate pairs as fauxqs does; the publisher cannot know that in advance.
    const sqs = fakeSqs();
    const outcome = await publishFifoMessages(sqs.client, 'url', [
      message(0, '"😀"', 'one-group'),
      message(1, '{"n":1}', 'one-group'),
    ]);
    expect(outcome).toEqual({ sent: 1, refused: 1 });
    expect(sqs.calls).toHaveLength(1);
  });

  it('given a body with characters SQS refuses, then it is dropped without asking SQS', async () => {
    const sqs = fakeSqs();
    const outcome = await publishFifoMessages(sqs.client, 'url', [
      message(0, '\u0000'),
      message(1, '\ud800'),
    ]);
    expect(outcome).toEqual({ sent: 0, refused: 2 });
    expect(sqs.calls).toHaveLength(0);
  });

  it('given a body that makes SQS refuse its whole request, then the others of that batch are sent one by one and it alone is dropped', async () => {
    const sqs = fakeSqs({ refusesWholeRequest: (body) => body.includes('poison') });
    const messages = Array.from({ length: 10 }, (_, i) =>
      message(i, i === 3 ? '"poison"' : `{"n":${i}}`, 'g'),
    );
    const outcome = await publishFifoMessages(sqs.client, 'url', messages);
    expect(outcome).toEqual({ sent: 9, refused: 1 });
    // In their order: the group's FIFO order survives the isolation.
    expect(sentIds(sqs.accepted)).toEqual(messages.filter((_, i) => i !== 3).map((m) => m.deduplicationId));
  });

  it('given a queue that refuses every request for its content (a misconfigured queue), then it throws TransientError instead of dropping them all', async () => {
    const sqs = fakeSqs({ refusesWholeRequest: () => true });
    const messages = Array.from({ length: 4 }, (_, i) => message(i, `{"n":${i}}`, 'g'));

    await expect(publishFifoMessages(sqs.client, 'url', messages)).rejects.toBeInstanceOf(TransientError);
    expect(sqs.accepted).toHaveLength(0);
  });

  it('given an entry failing transiently once, then it is retried and everything is sent', async () => {
    const sqs = fakeSqs({ transientFailures: { 'msg:wamid.4': 1 } });
    const outcome = await publishFifoMessages(
      sqs.client,
      'url',
      Array.from({ length: 13 }, (_, i) => message(i)),
    );
    expect(outcome).toEqual({ sent: 13, refused: 0 });
    expect(sqs.accepted).toHaveLength(13);
  });

  it('given an entry failing transiently every time, then every other message is still sent and then it throws TransientError', async () => {
    const sqs = fakeSqs({ transientFailures: { 'msg:wamid.0': 99 } });
    const messages = Array.from({ length: 25 }, (_, i) => message(i));
    await expect(publishFifoMessages(sqs.client, 'url', messages)).rejects.toBeInstanceOf(TransientError);
    expect(sentIds(sqs.accepted).sort()).toEqual(
      messages
        .slice(1)
        .map((m) => m.deduplicationId)
        .sort(),
    );
  });

  it('given SQS is down, then it throws TransientError', async () => {
    const sqs = fakeSqs({ outage: true });
    await expect(publishFifoMessages(sqs.client, 'url', [message(0)])).rejects.toBeInstanceOf(TransientError);
  });

  it('given bodies that would make a batch longer than 256 KiB, then batches are split by size and all are sent', async () => {
    const sqs = fakeSqs();
    const big = (i: number) => message(i, `"${'x'.repeat(60_000)}"`);
    const outcome = await publishFifoMessages(
      sqs.client,
      'url',
      Array.from({ length: 10 }, (_, i) => big(i)),
    );
    expect(outcome).toEqual({ sent: 10, refused: 0 });
    for (const call of sqs.calls) {
      expect(call.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0)).toBeLessThanOrEqual(
        262_144,
      );
    }
  });

  it('given one body over 256 KiB, then it alone is dropped with a WARN and the rest are sent', async () => {
    const sqs = fakeSqs();
    const warn = vi.spyOn(logger, 'warn');
    const outcome = await publishFifoMessages(sqs.client, 'url', [
      message(0),
      message(1, `"${'x'.repeat(300_000)}"`),
      message(2),
    ]);
    expect(outcome).toEqual({ sent: 2, refused: 1 });
    expect(JSON.stringify(warn.mock.calls)).toContain('msg:wamid.1');
  });

  it('given many messages of one group, then they are sent in their order', async () => {
    const sqs = fakeSqs();
    const messages = Array.from({ length: 95 }, (_, i) => message(i, `{"n":${i}}`, i % 2 ? 'odd' : 'even'));
    await publishFifoMessages(sqs.client, 'url', messages);
    const order = (group: string) =>
      sqs.accepted.filter((e) => e.MessageGroupId === group).map((e) => JSON.parse(e.MessageBody ?? '').n);
    expect(order('even')).toEqual(messages.filter((_, i) => i % 2 === 0).map((_, k) => k * 2));
    expect(order('odd')).toEqual(messages.filter((_, i) => i % 2 === 1).map((_, k) => k * 2 + 1));
  });
});
