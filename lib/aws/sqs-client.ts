import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClientConfig } from './endpoints.ts';

/**
 * The SQS client. With an emulator the endpoint is explicit and queue URLs are not used as
 * endpoints, because fauxqs queue URLs use hosts (`sqs.<region>.localhost`) that do not resolve here.
 */
export function createSqsClient(config: AwsClientConfig): SQSClient {
  const endpoint = config.AWS_ENDPOINT_URL_SQS;
  return new SQSClient({
    region: config.AWS_REGION,
    ...(endpoint ? { endpoint, useQueueUrlAsEndpoint: false } : {}),
  });
}
