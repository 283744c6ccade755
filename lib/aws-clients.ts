import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from './aws/dynamo-clients.ts';
import { createS3Client } from './aws/s3-client.ts';
import { createSqsClient } from './aws/sqs-client.ts';
import { parseConfig } from './config.ts';

/**
 * Every AWS client at once, for the local stack, the tests and the benchmark. Functions build only
 * the clients they use from lib/aws/ (a function's bundle then carries nothing else). Endpoints come
 * from the SDK's standard variables (`AWS_ENDPOINT_URL_DYNAMODB`, `…_SQS`, `…_S3`), so the same code
 * talks to AWS or to the local emulators.
 */
export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  /** The plain client under `dynamo` (table administration). */
  dynamoBase: DynamoDBClient;
  sqs: SQSClient;
  s3: S3Client;
}

export function createAwsClients(env?: NodeJS.ProcessEnv): AwsClients {
  const config = parseConfig(env);
  return { ...createDynamoClients(config), sqs: createSqsClient(config), s3: createS3Client(config) };
}
