import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { QueueSpec } from '../../lib/topology.ts';
import { AppTable } from './constructs/app-table.ts';
import { EmailSending } from './constructs/email-sending.ts';
import { MediaBucket } from './constructs/media-bucket.ts';
import { PlatformSecrets } from './constructs/platform-secrets.ts';
import { QrCommandQueues } from './constructs/qr-command-queues.ts';
import { QrSessionBucket } from './constructs/qr-session-bucket.ts';
import { QueueWithDlq } from './constructs/queue-with-dlq.ts';
import type { DeploySettings } from './settings.ts';

export interface StatefulStackProps extends StackProps {
  settings: DeploySettings;
  /** The topology's queues (each with its dead-letter queue). */
  queues: Record<string, QueueSpec>;
  /** Prefix of named resources (secrets, key alias), e.g. `wa-assistant/prod`. */
  namePrefix: string;
}

/**
 * Everything that holds data or identity and must outlive a redeploy of the code: the table, the
 * queues (QR mode's command queues too), the media and QR session buckets, the platform secrets, the
 * tenant-secrets key and SES. In production
 * every one of them is retained when the stack is deleted, and the stack has termination protection.
 */
export class StatefulStack extends Stack {
  readonly table: Table;
  readonly queues: Record<string, QueueWithDlq>;
  readonly platformSecrets: PlatformSecrets;
  readonly tenantSecretsKey: Key;
  readonly media: MediaBucket;
  readonly email: EmailSending;
  /** QR mode's session snapshots and per-shard command queues; absent when `qrShards` is 0. */
  readonly qr: { sessions: QrSessionBucket; commandQueues: QrCommandQueues } | undefined;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    const { settings, queues, namePrefix, ...stackProps } = props;
    super(scope, id, {
      description: 'WhatsApp assistant: data, queues, secrets and keys',
      terminationProtection: settings.isProduction,
      ...stackProps,
    });
    const retain = settings.isProduction;

    this.table = new AppTable(this, 'Data', { retain }).table;

    this.queues = Object.fromEntries(
      Object.entries(queues).map(([name, spec]) => [
        name,
        new QueueWithDlq(this, `${name[0]?.toUpperCase()}${name.slice(1)}Queue`, { spec, retain }),
      ]),
    );

    this.platformSecrets = new PlatformSecrets(this, 'PlatformSecrets', {
      namePrefix,
      retain,
    });

    this.tenantSecretsKey = new Key(this, 'TenantSecretsKey', {
      description: "Encrypts tenants' WhatsApp tokens and OpenAI keys (encryption context: tenant id)",
      alias: `alias/${namePrefix.replaceAll('/', '-')}-tenant-secrets`,
      enableKeyRotation: true,
      // Losing this key loses every tenant's stored credentials: never delete it with the stack in
      // production, and give a dev deletion the longest window to change one's mind.
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(30),
    });

    this.media = new MediaBucket(this, 'Media', {
      stage: settings.stage,
      retain,
      expirationDays: settings.mediaExpirationDays,
    });

    this.email = new EmailSending(this, 'Email', { identity: settings.sesIdentity });

    this.qr =
      settings.qr.shards > 0
        ? {
            sessions: new QrSessionBucket(this, 'QrSessions', {
              stage: settings.stage,
              retain,
              accessLogs: this.media.accessLogs,
            }),
            commandQueues: new QrCommandQueues(this, 'QrCommands', { shards: settings.qr.shards, retain }),
          }
        : undefined;

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    for (const name of Object.keys(this.platformSecrets.secrets)) {
      new CfnOutput(this, `${name.replaceAll('_', '')}SecretName`, {
        value: `${namePrefix}/${name}`,
        description: `Secrets Manager name of ${name} (fill or read it as docs/deploy.md says)`,
      });
    }
    // A domain identity is verified by three DKIM CNAME records (an address, by a link SES e-mails).
    if (this.email.identity && !settings.sesIdentity?.includes('@')) {
      this.email.identity.dkimRecords.forEach((record, index) => {
        new CfnOutput(this, `DkimRecord${index + 1}`, {
          value: `${record.name} CNAME ${record.value}`,
          description: 'Publish in DNS to verify the SES domain identity',
        });
      });
    }
  }
}
