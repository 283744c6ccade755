import type { AppConfig } from '../config.ts';

/** What an AWS client needs from the configuration: the region and, locally, an emulator endpoint. */
export type AwsClientConfig = Pick<
  AppConfig,
  | 'AWS_REGION'
  | 'AWS_ENDPOINT_URL_DYNAMODB'
  | 'AWS_ENDPOINT_URL_SQS'
  | 'AWS_ENDPOINT_URL_S3'
  | 'AWS_ENDPOINT_URL_SESV2'
>;
