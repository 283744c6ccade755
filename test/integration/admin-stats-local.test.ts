import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { createAwsClients } from '../../lib/aws-clients.ts';
import { DynamoStatsStore } from '../../lib/stats/dynamo-stats-store.ts';
import { statsReportSchema } from '../../lib/stats/stats-schemas.ts';
import { uniqueName } from '../support/emulators.ts';

/**
 * GET /admin/stats through the local stack: the admin API's production composition builds the
 * statistics store itself, on the same table the assistant writes to.
 */

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('stats'),
    withSes: false,
    seedDemo: true,
    env: { OPERATOR_API_KEY: 'stats-operator-key', META_APP_SECRET: 'stats-app-secret' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('the local stack', () => {
  it("given the demo tenant's recorded messages, then GET /admin/stats shows them", async () => {
    const stats = new DynamoStatsStore(createAwsClients(stack.env).dynamo, stack.env.TABLE_NAME!);
    const at = new Date();
    await stats.record(stack.demoClientId!, { at, messagesIn: 1, answered: 'faq' });
    await stats.record(stack.demoClientId!, { at, messagesIn: 1, answered: 'declined' });
    await stats.record(stack.demoClientId!, { at, transcriptionSeconds: 6, imageInputs: 1 });

    const res = await fetch(`${stack.url}/admin/stats`, {
      headers: { authorization: `Bearer ${stack.operatorKey}` },
    });
    expect(res.status).toBe(200);
    const report = statsReportSchema.parse(await res.json());
    expect(report.tenants.find((t) => t.client_id === stack.demoClientId)).toMatchObject({
      name: 'Restaurante La Plaza',
      active: true,
      messages_in: 2,
      answered: 2,
      by_responder: { openai: 0, faq: 1, fallback: 0, declined: 1 },
      transcription_seconds: 6,
      image_inputs: 1,
      last_message_at: at.toISOString(),
    });
  });

  it('given no operator key, then 401', async () => {
    expect((await fetch(`${stack.url}/admin/stats`)).status).toBe(401);
  });
});
