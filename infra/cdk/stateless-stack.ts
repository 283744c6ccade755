import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { createTableInput } from '../../lib/storage/table.ts';
import type { FunctionSpec, RouteSpec } from '../../lib/topology.ts';
import { OperationalAlarms } from './constructs/alarms.ts';
import { AppFunction } from './constructs/app-function.ts';
import { FunctionSchedule } from './constructs/function-schedule.ts';
import { HttpApiRoutes } from './constructs/http-api.ts';
import { mediaBucketName } from './constructs/media-bucket.ts';
import { OperationsDashboard } from './constructs/operations-dashboard.ts';
import { fallbackRate, graphErrorRate, productMetric } from './constructs/product-metrics.ts';
import { QrRunnerService } from './constructs/qr-runner-service.ts';
import { QR_SESSION_PREFIX, qrSessionBucketName } from './constructs/qr-session-bucket.ts';
import type { QueueWithDlq } from './constructs/queue-with-dlq.ts';
import { grantMediaAccess, grantTableAccess, nagResourceName } from './grants.ts';
import type { DeploySettings } from './settings.ts';
import type { StatefulStack } from './stateful-stack.ts';

export interface StatelessStackProps extends StackProps {
  settings: DeploySettings;
  stateful: StatefulStack;
  /** The topology's functions: each one is deployed, wired and granted from its spec alone. */
  functions: Record<string, FunctionSpec>;
  /** Prefix of alarm and dashboard names, e.g. `wa-assistant-prod`. */
  namePrefix: string;
}

/** The table's secondary indexes, from the definition the table is built from. */
const tableIndexNames = (createTableInput('x').GlobalSecondaryIndexes ?? []).flatMap((index) =>
  index.IndexName ? [index.IndexName] : [],
);

/** Webhook p99 above this for 15 minutes breaks Meta's "under 1% over 1 s" expectation. */
const WEBHOOK_P99_MS = 1000;
/** Alarm thresholds on the product's own metrics. */
const FALLBACK_RATE_PERCENT = 20;
const GRAPH_ERROR_RATE_PERCENT = 10;
const SIGNATURE_REJECTIONS = 20;
const ITEMS_DROPPED = 10;
/** QR mode: a command older than this waits for a session that is not connected, or no runner. */
const QR_COMMAND_AGE_SECONDS = 300;
/** QR mode: leases lost in 15 minutes before it is churn rather than one task replacement. */
const QR_LEASES_LOST = 3;

/**
 * The code and what drives and watches it: one function per topology entry with exactly the grants
 * its spec lists, the HTTP API, queue consumers, schedules, alarms and the dashboard. Nothing here
 * holds data, so it can be destroyed and redeployed freely.
 */
export class StatelessStack extends Stack {
  readonly functions: Record<string, AppFunction>;
  readonly http: HttpApiRoutes;
  readonly alarms: OperationalAlarms;
  readonly schedules: Record<string, FunctionSchedule> = {};
  /** The QR browser-runner (absent when the deployment has no QR shards). */
  readonly qrRunner: QrRunnerService | undefined;
  private scheduleDeadLetters: Queue | undefined;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    const { settings, stateful, functions, namePrefix, ...stackProps } = props;
    super(scope, id, {
      description: 'WhatsApp assistant: functions, HTTP API, schedules, alarms',
      ...stackProps,
    });
    this.addStackDependency(stateful);

    this.alarms = new OperationalAlarms(this, 'Alarms', {
      namePrefix,
      email: settings.alarmEmail,
    });

    this.functions = Object.fromEntries(
      Object.entries(functions).map(([name, spec]) => [
        name,
        this.deployFunction(name, spec, settings, stateful),
      ]),
    );

    const routes = Object.entries(functions).flatMap(([fn, spec]) =>
      (spec.routes ?? []).map((route: RouteSpec) => ({ ...route, fn })),
    );
    this.http = new HttpApiRoutes(this, 'Http', {
      routes,
      functions: Object.fromEntries(Object.entries(this.functions).map(([name, f]) => [name, f.fn])),
      throttle: settings.api,
      logRetention: settings.logRetention,
      retainLogs: settings.isProduction,
    });
    // Landing pages and invitation links: the custom domain when there is one, else the API's URL.
    for (const fn of Object.values(this.functions)) {
      if (fn.spec.routes?.some((route) => route.auth === 'operator-key' || route.auth === 'tenant-key')) {
        fn.fn.addEnvironment('PUBLIC_BASE_URL', settings.publicBaseUrl ?? this.http.api.apiEndpoint);
      }
    }

    // Alarms: every function's errors, every dead-letter queue, queue age, webhook latency, API 5xx.
    for (const fn of Object.values(this.functions)) this.alarms.functionErrors(fn);
    for (const [name, queue] of Object.entries(stateful.queues)) {
      this.alarms.deadLetters(name, queue.deadLetterQueue);
      // Older than two visibility timeouts: it has failed twice already, or no consumer had room.
      this.alarms.queueAge(name, queue.queue, queue.spec.visibilityTimeoutSeconds * 2);
    }
    if (this.scheduleDeadLetters) this.alarms.deadLetters('schedule', this.scheduleDeadLetters);
    for (const fn of Object.values(this.functions)) {
      if (!fn.spec.routes?.some((route) => route.auth === 'meta-signature')) continue;
      this.alarms.above(
        `${fn.name}-latency-p99`,
        fn.fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99' }),
        WEBHOOK_P99_MS,
        `p99 of the ${fn.spec.entry} function above ${WEBHOOK_P99_MS} ms for 15 minutes: Meta expects under 1% of deliveries over 1 s`,
        3,
      );
    }
    this.alarms.above(
      'api-5xx',
      this.http.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      5,
      'The HTTP API answered 5xx five times in 5 minutes (Meta retries failed webhook deliveries)',
    );

    this.productAlarms();

    this.qrRunner = stateful.qr
      ? new QrRunnerService(this, 'QrRunner', {
          shards: settings.qr.shards,
          sessionsPerTask: settings.qr.sessionsPerTask,
          table: stateful.table,
          inboundQueue: this.inboundQueue(stateful).queue,
          inboundQueueUrlEnv: this.inboundQueue(stateful).spec.urlEnv,
          commandQueues: stateful.qr.commandQueues,
          sessionBucketName: qrSessionBucketName(this, settings.stage),
          mediaBucketName: mediaBucketName(this, settings.stage),
          logRetention: settings.logRetention,
          retainLogs: settings.isProduction,
        })
      : undefined;
    if (this.qrRunner && stateful.qr) this.qrAlarms(this.qrRunner, stateful.qr.commandQueues.queues);

    new OperationsDashboard(this, 'Operations', {
      dashboardName: namePrefix,
      api: this.http.api,
      functions: Object.values(this.functions),
      queues: Object.entries(stateful.queues).map(([name, queue]) => ({ name, queue })),
      alarms: this.alarms.alarms,
      ...(this.qrRunner && stateful.qr
        ? { qr: { runner: this.qrRunner, commandQueues: stateful.qr.commandQueues.queues } }
        : {}),
    });

    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }

  /** The inbound FIFO queue, which QR sessions' messages join (channel `qr`). */
  private inboundQueue(stateful: StatefulStack) {
    const queue = stateful.queues.inbound;
    if (!queue) throw new Error("QR mode needs the topology's inbound queue");
    return queue;
  }

  /** QR mode: failed sessions, lease churn, command queues' age and dead letters, running tasks. */
  private qrAlarms(runner: QrRunnerService, commandQueues: QueueWithDlq[]): void {
    this.alarms.above(
      'qr-session-failed',
      productMetric('QrSessionFailed'),
      1,
      "A QR session reached 'failed' after repeated restarts: that tenant gets no answers until it is started again (docs/qr-mode.md, Alarms)",
    );
    this.alarms.above(
      'qr-lease-churn',
      productMetric('QrLeaseLost').with({ period: Duration.minutes(15) }),
      QR_LEASES_LOST,
      `${QR_LEASES_LOST}+ shard leases lost in 15 minutes: runner tasks are dying, stalling or fighting over shards, and their sessions restart (docs/qr-mode.md, Alarms)`,
    );
    commandQueues.forEach((queue, shard) => {
      this.alarms.queueAge(`qr-commands-${shard}`, queue.queue, QR_COMMAND_AGE_SECONDS);
      this.alarms.deadLetters(`qr-commands-${shard}`, queue.deadLetterQueue);
    });
    this.alarms.below(
      'qr-runner-tasks',
      runner.runningTaskCount(),
      runner.shards,
      `Fewer than ${runner.shards} QR runner tasks running for 15 minutes: a shard has no runner and its tenants' sessions are down (docs/qr-mode.md, Alarms)`,
      3,
    );
  }

  /** Alarms on what the functions report (lib/observability/metric-catalog.ts). */
  private productAlarms(): void {
    this.alarms.above(
      'fallback-rate',
      fallbackRate(),
      FALLBACK_RATE_PERCENT,
      `Over ${FALLBACK_RATE_PERCENT}% of answers came from the FAQ responder because OpenAI failed, for 15 minutes (key, quota or outage: docs/runbook.md)`,
      3,
    );
    this.alarms.above(
      'graph-error-rate',
      graphErrorRate(),
      GRAPH_ERROR_RATE_PERCENT,
      `Over ${GRAPH_ERROR_RATE_PERCENT}% of replies failed at the Graph API for 15 minutes (throughput, window, spam limits)`,
      3,
    );
    this.alarms.above(
      'graph-token-invalid',
      productMetric('GraphErrors', { dimension: 'token_invalid' }),
      1,
      "A tenant's WhatsApp access token was refused (error 190): its replies stop until the token is replaced",
    );
    this.alarms.above(
      'webhook-signature-rejected',
      productMetric('SignatureRejected'),
      SIGNATURE_REJECTIONS,
      `${SIGNATURE_REJECTIONS}+ webhook POSTs with a wrong signature in 5 minutes: the App Secret changed at Meta but not here, or someone is probing`,
    );
    this.alarms.above(
      'webhook-items-dropped',
      productMetric('ItemsDropped'),
      ITEMS_DROPPED,
      `${ITEMS_DROPPED}+ webhook items dropped in 5 minutes (invalid for the payload schema, or refused by SQS for good): customers may go unanswered; see the WARN logs of the webhook`,
    );
    this.alarms.above(
      'provisioning-failures',
      productMetric('ProvisioningFailures'),
      1,
      'An assistant build failed: the tenant answers from the FAQ responder until it is rebuilt',
    );
  }

  /** One topology function: its environment, grants, trigger and schedule, all from its spec. */
  private deployFunction(
    name: string,
    spec: FunctionSpec,
    settings: DeploySettings,
    stateful: StatefulStack,
  ): AppFunction {
    const queueOf = (queueName: string) => {
      const queue = stateful.queues[queueName];
      if (!queue) throw new Error(`function ${name} names queue ${queueName}, which the topology lacks`);
      return queue;
    };

    const environment: Record<string, string> = {
      TABLE_NAME: stateful.table.tableName,
      ...settings.functionSettings,
    };
    for (const queueName of spec.sendsTo ?? []) {
      environment[queueOf(queueName).spec.urlEnv] = queueOf(queueName).queue.queueUrl;
    }
    // The ARN only: functions read the value at cold start (Powertools Parameters, 5-minute cache).
    for (const secret of spec.secrets) {
      environment[`${secret}_SECRET_ARN`] = stateful.platformSecrets.secrets[secret].secretArn;
    }
    if (spec.tenantSecrets) environment.TENANT_SECRETS_KMS_KEY_ID = stateful.tenantSecretsKey.keyArn;
    if (spec.media) environment.MEDIA_BUCKET_NAME = mediaBucketName(this, settings.stage);
    // Without an SES identity (allowed outside production) nothing is granted and the function says
    // so: an invitation is recorded as failed with "e-mail is not configured".
    const sendsEmail = spec.email && (settings.isProduction || stateful.email.identity !== undefined);
    if (sendsEmail) {
      environment.EMAIL_IDENTITY = stateful.email.identityName ?? '';
      environment.SES_CONFIGURATION_SET = stateful.email.configurationSet.configurationSetName;
    }
    if (sendsEmail && settings.sesFromAddress) environment.SES_FROM_ADDRESS = settings.sesFromAddress;
    if (settings.metaAppId && spec.secrets.includes('META_APP_SECRET')) {
      environment.META_APP_ID = settings.metaAppId;
    }
    // QR mode: only on a deployment with QR shards (unset, the functions keep QR mode off).
    const qr = spec.qr ? stateful.qr : undefined;
    if (qr) environment.QR_COMMAND_QUEUE_URLS = qr.commandQueues.urlsEnv;
    if (qr && spec.qr === 'send-and-delete-sessions') {
      environment.QR_SESSION_BUCKET = qrSessionBucketName(this, settings.stage);
    }

    const app = new AppFunction(this, `${name[0]?.toUpperCase()}${name.slice(1)}`, {
      name,
      spec,
      environment,
      logRetention: settings.logRetention,
      retainLogs: settings.isProduction,
    });
    const { fn, role } = app;

    grantTableAccess(role, stateful.table, spec, tableIndexNames);
    for (const queueName of spec.sendsTo ?? []) queueOf(queueName).queue.grantSendMessages(role);
    for (const secret of spec.secrets) stateful.platformSecrets.secrets[secret].grantRead(role);

    // Exactly the KMS calls lib/secrets/secret-box.ts makes (Encrypt, Decrypt; no data keys):
    // grantEncryptDecrypt would add kms:ReEncrypt* and kms:GenerateDataKey*, unused and wildcarded.
    if (spec.tenantSecrets === 'decrypt') stateful.tenantSecretsKey.grant(role, 'kms:Decrypt');
    if (spec.tenantSecrets === 'encrypt-decrypt') {
      stateful.tenantSecretsKey.grant(role, 'kms:Encrypt', 'kms:Decrypt');
    }

    if (spec.media) {
      const objects = grantMediaAccess(role, mediaBucketName(this, settings.stage), spec.media);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(this, objects)}]`,
        reason:
          'Objects of the media bucket only: object keys are per tenant and message, unknown in advance',
      });
    }
    if (sendsEmail) stateful.email.grantSend(role);

    if (qr && spec.qr !== 'available') qr.commandQueues.grantSend(role);
    if (qr && spec.qr === 'send-and-delete-sessions') {
      const sessions = `${this.formatArn({ service: 's3', region: '', account: '', resource: qrSessionBucketName(this, settings.stage) })}/${QR_SESSION_PREFIX}*`;
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [sessions] }));
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(this, sessions)}]`,
        reason:
          "Deletes QR session snapshots only (qr-sessions/<tenant id>/session.zip, a tenant's unlink or leaving QR mode): tenant ids are unknown in advance",
      });
    }

    if (spec.consumes) {
      const queue = queueOf(spec.consumes);
      if (queue.spec.visibilityTimeoutSeconds < spec.timeoutSeconds) {
        throw new Error(
          `queue ${spec.consumes}: visibility timeout ${queue.spec.visibilityTimeoutSeconds} s is below the ${name} timeout ${spec.timeoutSeconds} s; a slow batch would be delivered twice`,
        );
      }
      // Budget (today's assistant: batch 10, at most 50 concurrent invocations, both from the
      // topology). A FIFO batch is answered record after record, so at most 50 OpenAI requests are in
      // flight: at ~5 s an answer that is ~600 answers a minute, inside the per-minute request limits
      // of a paid OpenAI tier (a 429 falls back to the FAQ responder) and far below Graph's 80
      // messages/s per number. An answer costs ~10 DynamoDB writes: ~100 WRU/s at full speed, well
      // inside on-demand's 4,000 WRU/s of a new table. 50 of the account's 1,000 concurrent
      // executions leave the webhook room for bursts. Message groups (tenant + contact) keep each
      // conversation in order. The catch: 10 records at OpenAI's worst case (~50 s each) overrun the
      // 90 s timeout; the batch is then retried, and message claims keep that from answering twice.
      fn.addEventSource(
        new SqsEventSource(queue.queue, {
          batchSize: spec.batchSize ?? 1,
          ...(spec.maxConcurrency ? { maxConcurrency: spec.maxConcurrency } : {}),
          reportBatchItemFailures: true,
        }),
      );
    }

    if (spec.schedule) {
      this.schedules[name] = new FunctionSchedule(this, `${app.node.id}Schedule`, {
        fn,
        expression: spec.schedule.expression,
        description: spec.schedule.description,
        deadLetterQueue: this.scheduleDeadLetterQueue(),
      });
    }
    return app;
  }

  /** Shared by every schedule: invocations Scheduler gave up on (alarmed like every DLQ). */
  private scheduleDeadLetterQueue(): Queue {
    if (!this.scheduleDeadLetters) {
      this.scheduleDeadLetters = new Queue(this, 'ScheduleDeadLetters', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(this.scheduleDeadLetters).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          "This is a dead-letter queue, of EventBridge Scheduler's undeliverable invocations (not another queue's)",
      });
    }
    return this.scheduleDeadLetters;
  }
}
