import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import { ensureBucket } from '../../infra/local/buckets.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';
import { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import type { MediaDeps } from '../../lib/conversation/media-understanding.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import { createCustomerMedia } from '../../lib/media/customer-media.ts';
import { mediaObjectKey, readMedia } from '../../lib/media/media-objects.ts';
import { DynamoMediaQuota } from '../../lib/media/media-quota.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import { createOpenAiResponder } from '../../lib/openai/openai-responder.ts';
import { createOpenAiTranscriber } from '../../lib/openai/transcriber.ts';
import { sendFifoMessages } from '../../lib/queue/sqs-publisher.ts';
import { createFaqResponder } from '../../lib/responders/faq-responder.ts';
import { createS3MediaStore } from '../../lib/retention/media-store.ts';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { receiveWebhook } from '../../lib/webhook/receive-webhook.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { createCachedTenantRouter } from '../../lib/webhook/tenant-router.ts';
import { createGraphClient } from '../../lib/whatsapp/graph-client.ts';
import { FAKE_OPENAI_KEY, type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { drainQueue, freshFifoQueue, freshTable, uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { jpegImage, oggVoiceNote, pdfDocument } from '../support/media-samples.ts';
import { testClientService } from '../support/services.ts';

/**
 * Customers' media end to end on the emulators: a signed webhook as Meta sends it for a voice note,
 * a photo or a PDF → SQS FIFO (fauxqs) → the assistant, which looks the media up on the Graph
 * stand-in with the tenant's token, downloads it, checks it and keeps it in S3 under the tenant,
 * transcribes audio on the fake OpenAI (the real SDK's multipart upload), and answers through the
 * FAQ responder or the OpenAI responder; the Graph stand-in records the replies.
 */

const APP_SECRET = 'media-answers-app-secret';
const TENANT_TOKEN = 'EAAGmediaAnswersTenantToken01';

let aws: AwsClients;
let tableName: string;
let bucket: string;
let graph: StandaloneSimulator;
let openai: FakeOpenAi;
let clients: ClientRepository;
let conversations: ConversationStore;
let queue: { url: string; arn: string };
let plaza: Client;
let telemetry: InMemoryTelemetry;
let numberSeq = 881000;
let contactSeq = 34633000000;
let messageSeq = 0;

const secrets = createLocalSecretBox('media-answers-local-key');
const sha256Base64 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

beforeAll(async () => {
  ({ aws, tableName } = await freshTable());
  bucket = uniqueName('media');
  await ensureBucket(aws.s3, bucket);
  clients = new ClientRepository(aws.dynamo, tableName);
  conversations = new ConversationStore(aws.dynamo, tableName);
  graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
  openai = await startFakeOpenAi();
});

afterAll(async () => {
  await graph?.stop();
  await openai?.stop();
});

beforeEach(async () => {
  graph.simulator.reset();
  openai.reset();
  telemetry = new InMemoryTelemetry();
  queue = await freshFifoQueue(aws, 2);
  plaza = await createTenant('Restaurante La Plaza');
});

function createTenant(
  name: string,
  extra: Partial<Parameters<ReturnType<typeof testClientService>['create']>[0]> = {},
) {
  return testClientService(clients, secrets, { platformHasOpenAi: false }).create({
    name,
    phone_number: '+34666777888',
    phone_number_id: String(numberSeq++),
    faqs: laPlazaFaqs,
    language: 'es',
    bot_enabled: true,
    retention_hours: 24,
    whatsapp_access_token: TENANT_TOKEN,
    reply_delay_seconds: 0,
    ...extra,
  });
}

/** A tenant with its own OpenAI key (the fake's): its model sees pictures. */
async function seeingTenant(name: string, extra: Parameters<typeof createTenant>[1] = {}) {
  const created = await createTenant(name, extra);
  const openai_api_key_enc = await secrets.encrypt(FAKE_OPENAI_KEY, { tenantId: created.id });
  await clients.patch(created.id, { openai_api_key_enc });
  return { ...created, openai_api_key_enc };
}

/** The media side of the assistant: S3 and the Graph stand-in, OpenAI transcription, the daily cap. */
function mediaDeps(overrides: Partial<MediaDeps> = {}): MediaDeps {
  return {
    fetcher: createCustomerMedia({
      s3: aws.s3,
      bucket,
      graphBaseUrl: graph.graphBaseUrl,
      graphVersion: 'v26.0',
    }),
    transcriber: createOpenAiTranscriber({
      platformApiKey: FAKE_OPENAI_KEY,
      baseURL: openai.url,
      timeoutMs: 5_000,
      retries: 1,
      backoffMs: 5,
    }),
    quota: new DynamoMediaQuota(aws.dynamo, tableName),
    ...overrides,
  };
}

const openAiResponder = () =>
  withFallback(
    createOpenAiResponder({ platformApiKey: FAKE_OPENAI_KEY, baseURL: openai.url, retries: 0 }),
    createFaqResponder(),
  );

function depsWith(overrides: Partial<AnswerDeps> = {}): AnswerDeps {
  return {
    clients,
    conversations,
    claims: new MessageClaims(aws.dynamo, tableName, 400),
    sender: createGraphClient({ baseUrl: graph.graphBaseUrl, retries: 1, backoffMs: 5, maxBackoffMs: 20 }),
    responder: withFallback(undefined, createFaqResponder()),
    secrets,
    platformWhatsAppToken: async () => 'platform-token-unused',
    retentionHours: 24,
    telemetry,
    media: mediaDeps(),
    ...overrides,
  };
}

type MediaMessage = Record<string, unknown> & { type: string };

/** Registers bytes on the Graph stand-in and returns the message Meta's webhook would carry. */
function mediaMessage(
  kind: 'audio' | 'image' | 'document' | 'video' | 'sticker',
  bytes: Buffer,
  mimeType: string,
  fields: Record<string, unknown> = {},
  servedAs = mimeType.split(';')[0]!,
): MediaMessage {
  const id = graph.simulator.addMedia({ mimeType: servedAs, data: bytes });
  return { type: kind, [kind]: { id, mime_type: mimeType, sha256: sha256Base64(bytes), ...fields } };
}

const voiceNote = (spoken: string, seconds = 4, bytes = oggVoiceNote(spoken, seconds)) =>
  mediaMessage('audio', bytes, 'audio/ogg; codecs=opus', { voice: true });

/** Delivers one customer message through the webhook and answers the queue with `deps`. */
async function deliver(tenant: Client, from: string, message: Record<string, unknown>, deps = depsWith()) {
  const id = `wamid.media.${++messageSeq}`;
  const payload = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '34666777888', phone_number_id: tenant.phone_number_id },
              contacts: [{ profile: { name: 'Cliente' }, wa_id: from }],
              messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
            },
          },
        ],
      },
    ],
  };
  const rawBody = Buffer.from(metaJson(payload));
  await receiveWebhook(
    { rawBody, signature: signWebhookBody(rawBody, APP_SECRET) },
    {
      appSecret: APP_SECRET,
      router: createCachedTenantRouter((pnid) => clients.findRoute(pnid), { ttlMs: 0, missTtlMs: 0 }),
      enqueue: (messages) => sendFifoMessages(aws.sqs, queue.url, messages),
    },
  );
  await drainQueue(
    aws,
    queue,
    createAssistantHandler(async () => deps),
    20_000,
  );
  return id;
}

const repliesTo = (to: string) => graph.simulator.sent.filter((m) => m.to === to).map((m) => m.text ?? '');
const storedInbound = async (tenant: Client, contact: string, id: string) => {
  const page = await conversations.listMessages(tenant.id, contact, { limit: 20 });
  return page.items.find((m) => m.id === id);
};

describe('a voice note', () => {
  it('is downloaded with the tenant token, kept in S3 under the tenant, transcribed and answered from the FAQs', async () => {
    const from = String(contactSeq++);
    const bytes = oggVoiceNote('¿Tenéis menú del día?', 4);
    const id = await deliver(plaza, from, voiceNote('', 0, bytes));

    expect(repliesTo(from)).toEqual([expect.stringContaining('menú del día cuesta 12€')]);
    // The upload the real SDK made: multipart, named .ogg (the API refuses .opus), the configured model.
    expect(openai.transcriptions).toHaveLength(1);
    expect(openai.transcriptions[0]).toMatchObject({
      model: 'gpt-transcribe',
      filename: 'voice.ogg',
      language: 'es',
      status: 200,
    });
    const kept = await readMedia(aws.s3, bucket, plaza.id, id);
    expect(kept?.bytes.equals(bytes)).toBe(true);
    expect(mediaObjectKey(plaza.id, id).startsWith(`${plaza.id}/`)).toBe(true);
    // Fetched with the tenant's own token, as Meta requires.
    const lookups = graph.simulator.graphCalls.filter((c) => c.operation === 'media');
    expect(lookups.map((c) => c.tokenSuffix)).toEqual([TENANT_TOKEN.slice(-4)]);
    expect(await storedInbound(plaza, from, id)).toMatchObject({
      type: 'audio',
      text: '¿Tenéis menú del día?',
      transcript: { model: 'gpt-transcribe', seconds: 4 },
      media: { mime_type: 'audio/ogg' },
    });
    expect(telemetry.total('TranscriptionSeconds')).toBe(4);
  });

  it('whose media URL expired before the download is fetched again through a new URL', async () => {
    const from = String(contactSeq++);
    graph.simulator.failNext(1, { httpStatus: 404, code: 100, operation: 'media_download' });
    await deliver(plaza, from, voiceNote('¿Hacéis reservas?'));

    expect(repliesTo(from)).toEqual([expect.stringContaining('puedes reservar')]);
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'media')).toHaveLength(2);
  });

  it('whose transcript is uncertain is answered with what was understood first', async () => {
    const from = String(contactSeq++);
    openai.setTranscriptionRule(() => ({
      text: '¿Tenéis menú del día?',
      logprobs: [
        { token: '¿Tenéis', logprob: -1.2 },
        { token: ' menú', logprob: -0.9 },
      ],
    }));
    // A model that gives log-probabilities (gpt-transcribe, the default, does not).
    const transcriber = createOpenAiTranscriber({
      platformApiKey: FAKE_OPENAI_KEY,
      baseURL: openai.url,
      model: 'gpt-4o-mini-transcribe',
    });
    await deliver(plaza, from, voiceNote('(ruido)'), depsWith({ media: mediaDeps({ transcriber }) }));

    const [reply] = repliesTo(from);
    expect(reply).toMatch(/^Entendí tu audio así: «¿Tenéis menú del día\?»\./);
    expect(reply).toContain('menú del día cuesta 12€');
  });

  it('longer than the tenant allows gets a polite request to write, without a transcription', async () => {
    const from = String(contactSeq++);
    const patient = await createTenant('Clínica Dental Sonrisa', { audio_max_seconds: 30 });
    await deliver(patient, from, voiceNote('una historia muy larga', 95));

    expect(repliesTo(from)).toEqual([expect.stringContaining('Tu audio es demasiado largo')]);
    expect(openai.transcriptions).toHaveLength(0);
  });

  it('without OpenAI (the offline default: no key anywhere) gets the polite "text only" reply, never silence', async () => {
    const from = String(contactSeq++);
    const offline = createOpenAiTranscriber({ platformApiKey: async () => undefined, baseURL: openai.url });
    await deliver(
      plaza,
      from,
      voiceNote('¿Tenéis menú del día?'),
      depsWith({ media: mediaDeps({ transcriber: offline }) }),
    );

    expect(repliesTo(from)).toEqual([expect.stringContaining('solo puedo leer mensajes de texto')]);
    expect(repliesTo(from)[0]).toContain('una persona del equipo');
    expect(openai.transcriptions).toHaveLength(0);
    // How the offline default runs, not a failure: nothing counted as refused.
    expect(telemetry.total('MediaRefused', 'transcription')).toBe(0);
  });

  it('when the transcription fails after its retries gets the polite reply too', async () => {
    const from = String(contactSeq++);
    openai.setTranscriptionRule(() => ({ status: 500, error: { message: 'boom', type: 'server_error' } }));
    await deliver(plaza, from, voiceNote('¿Tenéis menú del día?'));

    expect(repliesTo(from)).toEqual([expect.stringContaining('solo puedo leer mensajes de texto')]);
    expect(openai.transcriptions.length).toBeGreaterThanOrEqual(2);
    expect(telemetry.total('MediaRefused', 'transcription')).toBe(1);
  });
});

describe('media Meta would not have sent', () => {
  it('given bytes that do not match the declared sha256, then refused politely and not kept', async () => {
    const from = String(contactSeq++);
    const note = voiceNote('¿Tenéis menú del día?');
    (note.audio as Record<string, unknown>).sha256 = sha256Base64(Buffer.from('other bytes'));
    const id = await deliver(plaza, from, note);

    expect(repliesTo(from)).toEqual([expect.stringContaining('No he podido abrir el archivo')]);
    expect(await readMedia(aws.s3, bucket, plaza.id, id)).toBeUndefined();
    expect(openai.transcriptions).toHaveLength(0);
    expect(telemetry.total('MediaRefused', 'sha256_mismatch')).toBe(1);
  });

  it('given a picture over 5 MB, then refused politely before it is downloaded', async () => {
    const from = String(contactSeq++);
    const big = Buffer.alloc(5 * 1024 * 1024 + 1, 7);
    await deliver(await seeingTenant('Tienda Moda'), from, mediaMessage('image', big, 'image/jpeg'));

    expect(repliesTo(from)).toEqual([expect.stringContaining('No he podido abrir el archivo')]);
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'media_download')).toHaveLength(0);
    expect(telemetry.total('MediaRefused', 'too_large')).toBe(1);
  });

  it('given a type other than the one declared, then refused and not kept; the caption is answered after saying so', async () => {
    const from = String(contactSeq++);
    const shop = await seeingTenant('Tienda Moda');
    // The Graph API says it is something else than the webhook declared.
    const caption = { caption: '¿Tenéis menú del día?' };
    const id = await deliver(
      shop,
      from,
      mediaMessage('image', jpegImage(), 'image/jpeg', caption, 'image/png'),
    );

    const [reply] = repliesTo(from);
    expect(reply).toMatch(/^No he podido abrir el archivo que enviaste\.\n\n/);
    expect(reply).toContain('menú del día cuesta 12€');
    expect(telemetry.total('MediaRefused', 'mime_not_allowed')).toBe(1);
    expect(await readMedia(aws.s3, bucket, shop.id, id)).toBeUndefined();
  });
});

describe('a photo', () => {
  it('with a caption reaches the Responses call as input_image (low detail) beside the caption', async () => {
    const from = String(contactSeq++);
    const photo = jpegImage();
    await deliver(
      await seeingTenant('Tienda Moda'),
      from,
      mediaMessage('image', photo, 'image/jpeg', { caption: '¿tenéis esto en talla M?' }),
      depsWith({ responder: openAiResponder() }),
    );

    const [call] = openai.requestsTo('POST', '/v1/responses');
    const input = (call!.body as { input: Array<{ role?: string; content: unknown }> }).input;
    const user = input.find((item) => item.role === 'user')!;
    expect(user.content).toEqual([
      { type: 'input_text', text: '¿tenéis esto en talla M?' },
      { type: 'input_image', image_url: `data:image/jpeg;base64,${photo.toString('base64')}`, detail: 'low' },
    ]);
    expect(repliesTo(from)).toEqual(['[fake-openai] ¿tenéis esto en talla M?']);
    expect(telemetry.total('ImageInputs')).toBe(1);
  });

  it('with a caption, offline, gets the caption answered by the FAQ responder, and is not even fetched', async () => {
    const from = String(contactSeq++);
    const caption = { caption: '¿Hacéis reservas?' };
    await deliver(plaza, from, mediaMessage('image', jpegImage(), 'image/jpeg', caption));
    const [reply] = repliesTo(from);
    expect(reply).toMatch(/^Por ahora solo puedo leer texto: no he podido ver ni escuchar lo que enviaste\./);
    expect(reply).toContain('puedes reservar');
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'media')).toHaveLength(0);
    expect(telemetry.total('ImageInputs')).toBe(0);
  });

  it('without a caption, offline, gets the polite "text only" reply', async () => {
    const from = String(contactSeq++);
    await deliver(plaza, from, mediaMessage('image', jpegImage(), 'image/jpeg'));
    expect(repliesTo(from)).toEqual([expect.stringContaining('solo puedo leer mensajes de texto')]);
  });

  it('without a caption, when OpenAI fails, gets the polite reply from the FAQ responder', async () => {
    const from = String(contactSeq++);
    openai.failNext(5, { status: 500 });
    await deliver(
      await seeingTenant('Tienda Moda'),
      from,
      mediaMessage('image', jpegImage(), 'image/jpeg'),
      depsWith({ responder: openAiResponder() }),
    );
    expect(repliesTo(from)).toEqual([expect.stringContaining('solo puedo leer mensajes de texto')]);
  });

  it('past the tenant daily cap gets the polite reply; its caption alone is answered', async () => {
    const capped = await seeingTenant('Zapatería Paso', { media_daily_limit: 1 });
    const from = String(contactSeq++);
    await deliver(capped, from, mediaMessage('image', jpegImage(), 'image/jpeg'));
    await deliver(capped, from, mediaMessage('image', jpegImage(), 'image/jpeg'));
    await deliver(
      capped,
      from,
      mediaMessage('image', jpegImage(), 'image/jpeg', { caption: '¿Hacéis reservas?' }),
    );

    expect(repliesTo(from)).toEqual([
      expect.stringContaining('solo puedo leer'),
      expect.stringContaining('solo puedo leer'),
      expect.stringMatching(/^Por ahora solo puedo leer texto[\s\S]*puedes reservar/),
    ]);
    // Only the first was fetched: the cap stops the download too.
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'media_download')).toHaveLength(1);
    expect(telemetry.total('MediaRefused', 'daily_limit')).toBe(2);
  });
});

describe('a document', () => {
  it('a small PDF reaches the Responses call as input_file', async () => {
    const from = String(contactSeq++);
    const pdf = pdfDocument('Pedido 1234');
    await deliver(
      await seeingTenant('Tienda Moda'),
      from,
      mediaMessage('document', pdf, 'application/pdf', { filename: 'pedido.pdf', caption: '¿Está listo?' }),
      depsWith({ responder: openAiResponder() }),
    );

    const [call] = openai.requestsTo('POST', '/v1/responses');
    const user = (call!.body as { input: Array<{ role?: string; content: unknown }> }).input.find(
      (item) => item.role === 'user',
    )!;
    expect(user.content).toEqual([
      { type: 'input_text', text: '¿Está listo?' },
      {
        type: 'input_file',
        filename: 'pedido.pdf',
        file_data: `data:application/pdf;base64,${pdf.toString('base64')}`,
      },
    ]);
  });
});

describe('what is recorded and not answered', () => {
  it('a sticker or a reaction is stored, and gets no reply', async () => {
    const from = String(contactSeq++);
    const sticker = await deliver(
      plaza,
      from,
      mediaMessage('sticker', Buffer.from('RIFFxxxxWEBP'), 'image/webp'),
    );
    const reaction = await deliver(plaza, from, {
      type: 'reaction',
      reaction: { message_id: 'wamid.x', emoji: '👍' },
    });

    expect(repliesTo(from)).toEqual([]);
    expect(await storedInbound(plaza, from, sticker)).toMatchObject({ type: 'sticker' });
    expect(await storedInbound(plaza, from, reaction)).toMatchObject({ type: 'reaction' });
  });

  it('a location and a contact card get a sensible acknowledgement', async () => {
    const from = String(contactSeq++);
    const location = await deliver(plaza, from, {
      type: 'location',
      location: { latitude: 40.4168, longitude: -3.7038 },
    });
    await deliver(plaza, from, {
      type: 'contacts',
      contacts: [{ name: { formatted_name: 'Ana Pérez' }, phones: [{ phone: '+34 600 000 000' }] }],
    });

    expect(repliesTo(from)).toEqual([
      'Gracias, he recibido la ubicación. ¿En qué puedo ayudarte?',
      'Gracias, he recibido el contacto. ¿En qué puedo ayudarte?',
    ]);
    expect(await storedInbound(plaza, from, location)).toMatchObject({ text: '40.4168, -3.7038' });
  });
});

describe('tenants and retention', () => {
  it('tenant B never reads tenant A media, whatever message id it names', async () => {
    const from = String(contactSeq++);
    const id = await deliver(plaza, from, voiceNote('¿Tenéis menú del día?'));
    const other = await createTenant('Peluquería Estilo');

    expect(await readMedia(aws.s3, bucket, plaza.id, id)).toBeDefined();
    expect(await readMedia(aws.s3, bucket, other.id, id)).toBeUndefined();
    // B's fetcher asked for the same message id, as if stored: nothing of A's comes back.
    await expect(
      mediaDeps().fetcher.fetch({
        tenantId: other.id,
        messageId: id,
        kind: 'audio',
        media: { stored: true, mime_type: 'audio/ogg' },
        accessToken: '',
      }),
    ).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('the purge removes the tenant media once past its retention', async () => {
    const from = String(contactSeq++);
    const id = await deliver(plaza, from, voiceNote('¿Tenéis menú del día?'));
    const store = createS3MediaStore(aws.s3, bucket);

    expect(await store.deleteOlderThan(plaza.id, new Date(Date.now() - 3_600_000), 100)).toEqual({
      deleted: 0,
      more: false,
    });
    expect(await store.deleteOlderThan(plaza.id, new Date(Date.now() + 60_000), 100)).toMatchObject({
      deleted: 1,
    });
    expect(await readMedia(aws.s3, bucket, plaza.id, id)).toBeUndefined();
  });
});

describe('a retry of the same message', () => {
  it('reads the kept copy instead of downloading again, and takes no second unit of the daily cap', async () => {
    const bytes = oggVoiceNote('¿Hacéis reservas?', 2);
    const mediaId = graph.simulator.addMedia({ mimeType: 'audio/ogg', data: bytes });
    const request = {
      tenantId: plaza.id,
      messageId: `wamid.retry.${++messageSeq}`,
      kind: 'audio' as const,
      media: { id: mediaId, mime_type: 'audio/ogg; codecs=opus', sha256: sha256Base64(bytes) },
      accessToken: TENANT_TOKEN,
    };
    const { fetcher, quota } = mediaDeps();

    const first = await fetcher.fetch(request);
    const again = await fetcher.fetch(request);

    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(graph.simulator.graphCalls.filter((c) => c.operation === 'media_download')).toHaveLength(1);
    const day = new Date().toISOString().slice(0, 10);
    expect(await quota!.take(plaza.id, request.messageId, day, 2)).toBe(true);
    expect(await quota!.take(plaza.id, request.messageId, day, 2)).toBe(true); // the same message
    expect(await quota!.take(plaza.id, 'wamid.other.1', day, 2)).toBe(true);
    expect(await quota!.take(plaza.id, 'wamid.other.2', day, 2)).toBe(false); // two units used
    // Another tenant's allowance is its own.
    expect(await quota!.take('cl_someone_else', 'wamid.other.2', day, 2)).toBe(true);
  });
});

describe('a voice note delivered again', () => {
  it('after its answer failed to send, is answered once from the stored plan: transcribed once, counted once, its transcript kept', async () => {
    const from = String(contactSeq++);
    // Both tries of the sender's first send are throttled: the message goes back to the queue.
    graph.simulator.failNext(2, { httpStatus: 429, code: 130429, operation: 'send' });
    const id = await deliver(plaza, from, voiceNote('¿Tenéis menú del día?', 6));

    expect(repliesTo(from)).toEqual([expect.stringContaining('menú del día cuesta 12€')]);
    expect(openai.transcriptions).toHaveLength(1);
    expect(telemetry.total('TranscriptionSeconds')).toBe(6);
    expect(await storedInbound(plaza, from, id)).toMatchObject({
      text: '¿Tenéis menú del día?',
      transcript: { seconds: 6 },
    });
  });
});

describe('a media lookup that refuses the token', () => {
  it('flags the tenant credentials as invalid, as a refused send does, instead of retrying forever', async () => {
    const from = String(contactSeq++);
    const tenant = await createTenant('Floristería Rosa');
    graph.simulator.failNext(1, { httpStatus: 401, code: 190, operation: 'media' });
    await deliver(tenant, from, voiceNote('¿Tenéis menú del día?'));

    expect(repliesTo(from)).toEqual([]);
    expect(await clients.get(tenant.id)).toMatchObject({ credentials_status: 'invalid' });
    expect(openai.transcriptions).toHaveLength(0);
  });
});
