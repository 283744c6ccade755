import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createDynamoClients } from '../lib/aws/dynamo-clients.ts';
import { createSqsClient } from '../lib/aws/sqs-client.ts';
import { parseConfig } from '../lib/config.ts';
import { UnauthorizedError } from '../lib/errors.ts';
import { errorResponse, json, rawBody } from '../lib/http/http-response.ts';
import { logger } from '../lib/logger.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import { type FlushableTelemetry, noTelemetry } from '../lib/observability/telemetry.ts';
import { type FifoMessage, publishFifoMessages } from '../lib/queue/sqs-publisher.ts';
import { once } from '../lib/runtime/once.ts';
import { secretsMatch } from '../lib/secrets/constant-time.ts';
import { requirePlatformSecret } from '../lib/secrets/platform-secrets.ts';
import { ClientRepository } from '../lib/tenants/client-repository.ts';
import { type ReceiveWebhookDeps, receiveWebhook } from '../lib/webhook/receive-webhook.ts';
import { createCachedTenantRouter } from '../lib/webhook/tenant-router.ts';

/** GET /webhook (Meta's verification) and POST /webhook (deliveries) for every tenant. */

interface WebhookHandlerDeps extends ReceiveWebhookDeps {
  verifyToken: string;
}

/**
 * `telemetry` (EMF in production) counts each POST: accepted deliveries, events queued, items
 * dropped, rejected signatures. It is flushed after every request with no tenant metadata (one
 * delivery may carry many tenants' messages).
 */
export function createWebhookHandler(
  deps: () => Promise<WebhookHandlerDeps>,
  options: { telemetry?: FlushableTelemetry } = {},
) {
  const telemetry = options.telemetry ?? noTelemetry;
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const resolved = await deps();
      if (event.requestContext.http.method === 'GET') {
        const query = event.queryStringParameters ?? {};
        const token = query['hub.verify_token'];
        if (query['hub.mode'] === 'subscribe' && token && secretsMatch(token, resolved.verifyToken)) {
          return {
            statusCode: 200,
            headers: { 'content-type': 'text/plain' },
            body: query['hub.challenge'] ?? '',
          };
        }
        return json(403, { error: 'forbidden', message: 'verification token mismatch' });
      }
      const report = await receiveWebhook(
        { rawBody: rawBody(event), signature: event.headers['x-hub-signature-256'] },
        resolved,
      );
      // Checked first: a filtered info() still parses the X-Ray trace header, on every request.
      if (logger.level <= LogLevelThreshold.INFO) logger.info('webhook received', { ...report });
      telemetry.count('WebhookDeliveries');
      telemetry.count('MessagesEnqueued', report.enqueued);
      telemetry.count('ItemsDropped', report.invalidItems + report.refusedByQueue);
      return json(200, { status: 'EVENT_RECEIVED' });
    } catch (error) {
      if (error instanceof UnauthorizedError) telemetry.count('SignatureRejected');
      return errorResponse(error);
    } finally {
      telemetry.flush();
    }
  };
}

const staticDeps = once(() => {
  const config = parseConfig(undefined, ['TABLE_NAME', 'INBOUND_QUEUE_URL']);
  const { dynamo } = createDynamoClients(config);
  const sqs = createSqsClient(config);
  const clients = new ClientRepository(dynamo, config.TABLE_NAME);
  const queueUrl = config.INBOUND_QUEUE_URL;
  return {
    // Batched route reads (BatchGetItem): a delivery's numbers cost a request per 100, not one each.
    router: createCachedTenantRouter(clients),
    enqueue: (messages: FifoMessage[]) => publishFifoMessages(sqs, queueUrl, messages),
  };
});

/** Secrets are read per request (Powertools caches them 5 minutes), so a rotation takes effect. */
const productionDeps = async (): Promise<WebhookHandlerDeps> => {
  const [base, appSecret, verifyToken] = await Promise.all([
    staticDeps(),
    requirePlatformSecret('META_APP_SECRET'),
    requirePlatformSecret('META_VERIFY_TOKEN'),
  ]);
  return { ...base, appSecret, verifyToken };
};

/** Once per process: buffered per request and flushed after it. */
const telemetry = new EmfTelemetry('webhook');

export const handler = createWebhookHandler(productionDeps, { telemetry });
