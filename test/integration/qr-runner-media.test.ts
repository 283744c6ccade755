import { createHash } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { mediaObjectKey, readMedia } from '../../lib/media/media-objects.ts';
import { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';
import {
  aws,
  eventually,
  freshQueues,
  inboundUrl,
  linkedTenant,
  mediaBucket,
  startRunner,
  stopRunners,
  warnings,
} from '../support/qr-runner-harness.ts';

/**
 * A QR customer's media through the runner (test/support/qr-runner-harness.ts): downloaded from the
 * simulated session, kept in the media bucket on fauxqs S3 under the tenant's prefix, described on
 * the inbound FIFO queue; what Meta's limits refuse, or what is gone, is queued without `stored`.
 */
afterEach(stopRunners);

describe("a customer's media", () => {
  const voiceNote = Buffer.from('OggS\u0000voice-note-bytes');
  const messagesOf = (events: Array<Record<string, unknown>>) =>
    events.map((event) => event.message as Record<string, unknown>);
  /** Received and deleted: a FIFO group is locked while a message of it is in flight. */
  const queued = (count: number) => {
    const seen: Array<Record<string, unknown>> = [];
    return eventually(async () => {
      const { Messages } = await aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: inboundUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const message of Messages ?? []) {
        seen.push(JSON.parse(message.Body!));
        await aws.sqs.send(
          new DeleteMessageCommand({ QueueUrl: inboundUrl, ReceiptHandle: message.ReceiptHandle! }),
        );
      }
      return seen.length >= count ? seen : undefined;
    }, `${count} inbound events`);
  };

  it('a voice note is stored at its media key under the tenant, and queued as a stored voice audio before the text after it', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    startRunner(whatsapp, 'task-a');
    const tenantId = await linkedTenant(whatsapp, '34611000010');
    whatsapp.receiveMedia(
      '34611000010',
      '34699000010',
      { type: 'audio', bytes: voiceNote, mimeType: 'audio/ogg; codecs=opus', voice: true },
      { id: 'sim_voice1' },
    );
    whatsapp.receive('34611000010', '34699000010', '¿me oyes?', { id: 'sim_after' });

    const events = await queued(2);
    // The download and the store take a while: the text after it still comes second.
    expect(messagesOf(events).map((m) => m.id)).toEqual(['sim_voice1', 'sim_after']);
    const sha256 = createHash('sha256').update(voiceNote).digest('hex');
    expect(events[0]).toMatchObject({ tenant_id: tenantId, channel: 'qr', contact: { key: '34699000010' } });
    expect(events[0]!.message).toEqual({
      id: 'sim_voice1',
      type: 'audio',
      timestamp: expect.any(Number),
      media: { stored: true, sha256, mime_type: 'audio/ogg; codecs=opus', voice: true },
    });
    expect(await readMedia(aws.s3, mediaBucket, tenantId, 'sim_voice1')).toEqual({
      bytes: voiceNote,
      mimeType: 'audio/ogg',
    });
    const head = await aws.s3.send(
      new HeadObjectCommand({ Bucket: mediaBucket, Key: mediaObjectKey(tenantId, 'sim_voice1') }),
    );
    expect(head.Metadata).toEqual({ sha256 });
    expect(warnings).toEqual([]);
  });

  it('a photo keeps its caption as the text; what is too large, of a refused type or gone is queued unstored', async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    startRunner(whatsapp, 'task-a');
    const tenantId = await linkedTenant(whatsapp, '34611000011');
    const photo = Buffer.from('\xff\xd8\xff photo', 'latin1');
    const send = (id: string, media: Parameters<SimulatedWhatsApp['receiveMedia']>[2]) =>
      whatsapp.receiveMedia('34611000011', '34699000011', media, { id });
    send('sim_photo', { type: 'image', bytes: photo, mimeType: 'image/jpeg', caption: '¿Tenéis este?' });
    send('sim_big', { type: 'image', bytes: Buffer.alloc(5 * 1024 * 1024 + 1, 1), mimeType: 'image/jpeg' });
    send('sim_announced', { type: 'audio', bytes: voiceNote, mimeType: 'audio/ogg', size: 17 * 1024 * 1024 });
    send('sim_gif', { type: 'image', bytes: photo, mimeType: 'image/gif' });
    send('sim_doc', { type: 'document', bytes: photo, mimeType: 'application/zip', filename: 'fotos.zip' });
    send('sim_gone', {
      type: 'audio',
      bytes: voiceNote,
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
      gone: true,
    });

    const messages = messagesOf(await queued(6));
    const byId = Object.fromEntries(messages.map((m) => [m.id, m]));
    expect(byId.sim_photo).toMatchObject({
      type: 'image',
      text: '¿Tenéis este?',
      media: { stored: true, mime_type: 'image/jpeg' },
    });
    expect(byId.sim_big).toEqual(
      expect.objectContaining({ type: 'image', media: { mime_type: 'image/jpeg' } }),
    );
    expect(byId.sim_announced).toMatchObject({ type: 'audio', media: { mime_type: 'audio/ogg' } });
    expect(byId.sim_gif).toMatchObject({ type: 'image', media: { mime_type: 'image/gif' } });
    expect(byId.sim_doc).toMatchObject({
      type: 'document',
      media: { mime_type: 'application/zip', filename: 'fotos.zip' },
    });
    expect(byId.sim_gone).toMatchObject({
      type: 'audio',
      media: { mime_type: 'audio/ogg; codecs=opus', voice: true },
    });
    const unstored = ['sim_big', 'sim_announced', 'sim_gif', 'sim_doc', 'sim_gone'];
    for (const id of unstored) {
      expect((byId[id]!.media as Record<string, unknown>).stored, id).toBeUndefined();
      expect(await readMedia(aws.s3, mediaBucket, tenantId, id), id).toBeUndefined();
    }
    expect((await readMedia(aws.s3, mediaBucket, tenantId, 'sim_photo'))?.bytes).toEqual(photo);
    expect(Object.fromEntries(warnings.map((w) => [w.extra.messageKey, w.extra.reason]))).toEqual({
      sim_big: 'too_large',
      sim_announced: 'too_large',
      sim_gif: 'mime_not_allowed',
      sim_doc: 'mime_not_allowed',
      sim_gone: 'unavailable',
    });
    expect(JSON.stringify(warnings)).not.toContain('34699000011'); // no customer number in the logs
  });

  it("keeps each tenant's media under its own prefix, even for the same message id", async () => {
    await freshQueues();
    const whatsapp = new SimulatedWhatsApp();
    startRunner(whatsapp, 'task-a');
    const tenantA = await linkedTenant(whatsapp, '34611000012');
    const tenantB = await linkedTenant(whatsapp, '34611000013');
    const audio = (bytes: string) => ({
      type: 'audio' as const,
      bytes: Buffer.from(bytes),
      mimeType: 'audio/ogg',
    });
    whatsapp.receiveMedia('34611000012', '34699000012', audio('bytes of A'), { id: 'sim_same' });
    whatsapp.receiveMedia('34611000013', '34699000012', audio('bytes of B'), { id: 'sim_same' });

    const events = await queued(2);
    expect(
      events.map((e) => [e.tenant_id, (e.message as { media?: { stored?: boolean } }).media?.stored]),
    ).toEqual(
      expect.arrayContaining([
        [tenantA, true],
        [tenantB, true],
      ]),
    );
    expect((await readMedia(aws.s3, mediaBucket, tenantA, 'sim_same'))?.bytes.toString()).toBe('bytes of A');
    expect((await readMedia(aws.s3, mediaBucket, tenantB, 'sim_same'))?.bytes.toString()).toBe('bytes of B');
    const listed = await aws.s3.send(
      new ListObjectsV2Command({ Bucket: mediaBucket, Prefix: `${tenantA}/` }),
    );
    expect(listed.Contents?.map((object) => object.Key)).toEqual([mediaObjectKey(tenantA, 'sim_same')]);
    expect(mediaObjectKey(tenantA, 'sim_same').startsWith(`${tenantA}/media/`)).toBe(true);
  });
});
