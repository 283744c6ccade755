import type { Context, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';
import type { InboundMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { EmfTelemetry } from '../../lib/observability/emf-telemetry.ts';
import {
  failsAs,
  InMemoryClaims,
  InMemoryClients,
  InMemoryConversations,
  plazaTenant,
  RecordingSender,
  ScriptedResponder,
  taggedSecrets,
} from '../fakes/conversation-ports.ts';

const event = (count: number, body = '{"v":1}'): SQSEvent => ({
  Records: Array.from({ length: count }, (_, i) => ({
    messageId: `m${i}`,
    receiptHandle: `r${i}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: `g${i}`,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:1:q.fifo',
    awsRegion: 'us-east-1',
  })),
});

const context = (remainingMs: number) =>
  ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

describe('assistant handler', () => {
  it('given too little time left in the invocation, then it takes no record and returns them all to the queue', async () => {
    const handler = createAssistantHandler(async () => ({}) as AnswerDeps);
    const result = await handler(event(3), context(10_000));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m0', 'm1', 'm2']);
  });

  it('given a body that breaks the queue contract, then the record fails (and ends in the dead-letter queue)', async () => {
    const handler = createAssistantHandler(async () => ({}) as AnswerDeps);
    const result = await handler(event(1), context(90_000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
  });
});

const CUSTOMER = '34600111222';
const QUESTION = '¿Tenéis menú del día?';

const customerMessage = (): InboundMessageEvent => ({
  v: 1,
  kind: 'message',
  tenant_id: 'cl_plaza',
  phone_number_id: '700001',
  contact: { key: CUSTOMER, wa_id: CUSTOMER, name: 'Lucía' },
  message: { id: 'wamid.in.1', type: 'text', timestamp: 1_800_000_000, text: QUESTION },
  received_at: '2027-01-15T10:00:00.000Z',
});

/** The use case's ports in memory, a tenant and an OpenAI-like responder that reports its tokens. */
function answerDeps(sender = new RecordingSender()): AnswerDeps {
  return {
    clients: new InMemoryClients([plazaTenant()]),
    conversations: new InMemoryConversations(),
    claims: new InMemoryClaims(120_000),
    sender,
    responder: new ScriptedResponder(() => ({
      text: 'Sí, de lunes a viernes por 12€.',
      source: 'openai',
      usage: { inputTokens: 420, outputTokens: 17 },
    })),
    secrets: taggedSecrets,
    platformWhatsAppToken: async () => 'platform-token',
    retentionHours: 24,
  };
}

/** Everything the handler writes to stdout while it runs, and the EMF documents among it. */
async function captureStdout(work: () => Promise<unknown>) {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  const lines = chunks.flatMap((chunk) => chunk.split('\n'));
  const emf = lines
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { emf };
}

describe('assistant handler metrics', () => {
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env.POWERTOOLS_METRICS_DISABLED;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  });

  it('given metrics enabled, when a message is answered, then EMF goes out with the tenant as metadata and nothing of the customer', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const telemetry = new EmfTelemetry('assistant');
    const handler = createAssistantHandler(async () => answerDeps(), { telemetry });

    const { emf } = await captureStdout(() =>
      handler(event(1, JSON.stringify(customerMessage())), context(90_000)),
    );

    expect(emf.length).toBeGreaterThan(0);
    for (const doc of emf) expect(doc.tenant_id).toBe('cl_plaza');
    const answered = emf.find((doc) => doc.responder === 'openai');
    expect(answered?.MessagesAnswered).toBe(1);
    expect(answered?.ResponderLatency).toEqual(expect.any(Number));
    const plain = emf.find((doc) => doc.RepliesSent !== undefined);
    expect(plain).toMatchObject({ RepliesSent: 2, OpenAIInputTokens: 420, OpenAIOutputTokens: 17 });
    const written = JSON.stringify(emf);
    for (const personal of [CUSTOMER, 'Lucía', QUESTION, 'wamid.in.1', 'de lunes a viernes']) {
      expect(written).not.toContain(personal);
    }
  });

  it('given metrics enabled, when a send fails and the record goes back to the queue, then the Graph error is flushed anyway', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const telemetry = new EmfTelemetry('assistant');
    const sender = new RecordingSender().script(failsAs('rate_limited'));
    const handler = createAssistantHandler(async () => answerDeps(sender), { telemetry });

    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const { emf } = await captureStdout(async () => {
      result = await handler(event(1, JSON.stringify(customerMessage())), context(90_000));
    });

    expect(result?.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(emf.find((doc) => doc.kind === 'rate_limited')).toMatchObject({
      GraphErrors: 1,
      tenant_id: 'cl_plaza',
    });
  });

  it('given POWERTOOLS_METRICS_DISABLED=true (tests, the local stack), then no metric reaches stdout', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const telemetry = new EmfTelemetry('assistant');
    const handler = createAssistantHandler(async () => answerDeps(), { telemetry });

    const { emf } = await captureStdout(() =>
      handler(event(1, JSON.stringify(customerMessage())), context(90_000)),
    );

    expect(emf).toEqual([]);
  });
});
