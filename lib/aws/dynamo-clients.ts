import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientConfig } from './endpoints.ts';

export interface DynamoClients {
  /** The document client every repository uses. */
  dynamo: DynamoDBDocumentClient;
  /** The plain client under it (table administration). */
  dynamoBase: DynamoDBClient;
}

/** One module per AWS client, so a function's bundle carries only the clients it uses. */
export function createDynamoClients(config: AwsClientConfig): DynamoClients {
  const endpoint = config.AWS_ENDPOINT_URL_DYNAMODB;
  const dynamoBase = new DynamoDBClient({ region: config.AWS_REGION, ...(endpoint ? { endpoint } : {}) });
  const dynamo = DynamoDBDocumentClient.from(dynamoBase, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { dynamo, dynamoBase };
}
