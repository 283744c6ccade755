import type { TestProject } from 'vitest/node';
import { startDynamoDb, startSqsAndS3 } from '../../infra/local/emulators.ts';

/**
 * One DynamoDB Local and one fauxqs for the whole run; each test file creates its own table and
 * queues (see emulators.ts beside this file), so files never see each other's data.
 */
export default async function setup(project: TestProject) {
  const [dynamo, sqs] = await Promise.all([startDynamoDb(), startSqsAndS3()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await Promise.allSettled([dynamo.stop(), sqs.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}
