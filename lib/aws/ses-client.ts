import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { AwsClientConfig } from './endpoints.ts';

/** The SES v2 client (the local stack points it at aws-ses-v2-local). */
export function createSesClient(config: AwsClientConfig): SESv2Client {
  const endpoint = config.AWS_ENDPOINT_URL_SESV2;
  return new SESv2Client({ region: config.AWS_REGION, ...(endpoint ? { endpoint } : {}) });
}
