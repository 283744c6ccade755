import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * AWS clients, created once per process. Endpoints come from the SDK's standard variables
 * (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_S3`) so the same code talks
 * to AWS or to the local emulators. The SQS endpoint is always explicit because fauxqs queue URLs use
 * hosts (`sqs.<region>.localhost`) that do not resolve here.
 */
export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  /** The plain client under `dynamo` (table administration). */
  dynamoBase: DynamoDBClient;
  sqs: SQSClient;
  s3: S3Client;
}

export function createAwsClients(env: NodeJS.ProcessEnv = process.env): AwsClients {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
  const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS;
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3;
  const dynamoBase = new DynamoDBClient({ region, ...(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}) });
  const dynamo = DynamoDBDocumentClient.from(dynamoBase, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = new SQSClient({
    region,
    ...(sqsEndpoint ? { endpoint: sqsEndpoint, useQueueUrlAsEndpoint: false } : {}),
  });
  const s3 = new S3Client({ region, ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {}) });
  return { dynamo, dynamoBase, sqs, s3 };
}

let shared: AwsClients | undefined;

/** The process-wide clients (Lambda handlers call this at module scope). */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
