import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { MEDIA_REFUSAL_KINDS, RESPONDERS } from '../../../lib/observability/metric-catalog.ts';
import type { AppFunction } from './app-function.ts';
import {
  answeredByResponder,
  fallbackRate,
  graphErrorRate,
  graphErrorsByKind,
  productMetric,
} from './product-metrics.ts';
import type { QrRunnerService } from './qr-runner-service.ts';
import type { QueueWithDlq } from './queue-with-dlq.ts';

export interface OperationsDashboardProps {
  dashboardName: string;
  api: HttpApi;
  functions: AppFunction[];
  queues: Array<{ name: string; queue: QueueWithDlq }>;
  alarms: Alarm[];
  /** QR mode's runner and command queues (one per shard), when the deployment has QR shards. */
  qr?: { runner: QrRunnerService; commandQueues: QueueWithDlq[] };
}

const period = Duration.minutes(5);

/** One CloudWatch dashboard: alarm states, the API, each function and each queue. */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { api } = props;
    const rows: IWidget[][] = [
      [new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 4 })],
      [
        new GraphWidget({
          title: 'HTTP API requests and errors',
          left: [
            api.metricCount({ period }),
            api.metricClientError({ period }),
            api.metricServerError({ period }),
          ],
          width: 12,
        }),
        new GraphWidget({
          title: 'HTTP API latency (ms)',
          left: [
            api.metricLatency({ period, statistic: 'p50' }),
            api.metricLatency({ period, statistic: 'p99' }),
            api.metricIntegrationLatency({ period, statistic: 'p99' }),
          ],
          width: 12,
        }),
      ],
    ];
    rows.push(...productRows());
    for (const { fn, spec } of props.functions) {
      rows.push([
        new TextWidget({ markdown: `### ${spec.entry}\n${spec.description}`, width: 6, height: 6 }),
        new GraphWidget({
          title: `${spec.entry}: invocations, errors, throttles`,
          left: [
            fn.metricInvocations({ period }),
            fn.metricErrors({ period }),
            fn.metricThrottles({ period }),
          ],
          width: 9,
        }),
        new GraphWidget({
          title: `${spec.entry}: duration (ms, timeout ${spec.timeoutSeconds} s)`,
          left: [
            fn.metricDuration({ period, statistic: 'p50' }),
            fn.metricDuration({ period, statistic: 'p99' }),
          ],
          right: [fn.metric('ConcurrentExecutions', { period, statistic: 'Maximum' })],
          width: 9,
        }),
      ]);
    }
    for (const { name, queue } of props.queues) {
      rows.push([
        new GraphWidget({
          title: `${name} queue: depth`,
          left: [
            queue.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
            queue.queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: 'Maximum' }),
          ],
          right: [
            queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period,
              statistic: 'Maximum',
              label: 'dead letters',
            }),
          ],
          width: 12,
        }),
        new GraphWidget({
          title: `${name} queue: age of oldest message (s)`,
          left: [queue.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' })],
          width: 12,
        }),
      ]);
    }
    if (props.qr) rows.push(...qrRows(props.qr));
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: rows,
    });
  }
}

/** What the product did: deliveries, answers by responder, latency, tokens, Graph errors. */
function productRows(): IWidget[][] {
  return [
    [
      new GraphWidget({
        title: 'Webhook: deliveries, enqueued, refused',
        left: [productMetric('WebhookDeliveries'), productMetric('MessagesEnqueued')],
        right: [productMetric('SignatureRejected'), productMetric('ItemsDropped')],
        width: 8,
      }),
      new GraphWidget({
        title: 'Answers by responder',
        left: Object.values(answeredByResponder()),
        right: [productMetric('DuplicatesSuppressed'), productMetric('StatusesRecorded')],
        stacked: true,
        width: 8,
      }),
      new GraphWidget({
        title: 'Responder latency p99 (ms)',
        left: RESPONDERS.map((r) => productMetric('ResponderLatency', { dimension: r, statistic: 'p99' })),
        width: 8,
      }),
    ],
    [
      new GraphWidget({
        title: 'Fallback and Graph error rates (%)',
        left: [fallbackRate(), graphErrorRate()],
        width: 8,
      }),
      new GraphWidget({
        title: 'Graph send failures by kind',
        left: Object.values(graphErrorsByKind()),
        right: [productMetric('RepliesSent')],
        width: 8,
      }),
      new GraphWidget({
        title: 'OpenAI tokens; provisioning and purge',
        left: [productMetric('OpenAIInputTokens'), productMetric('OpenAIOutputTokens')],
        right: [
          productMetric('AssistantsProvisioned'),
          productMetric('ProvisioningFailures'),
          productMetric('PurgeRuns'),
          productMetric('PurgeItemsDeleted'),
        ],
        width: 8,
      }),
    ],
    [
      new GraphWidget({
        title: 'Debounce: messages collected into bursts, bursts answered, stale wake-ups',
        left: [productMetric('MessagesCollected'), productMetric('BurstsAnswered')],
        right: [productMetric('StaleWakeupsDropped')],
        width: 8,
      }),
      new GraphWidget({
        title: 'Media: transcription seconds, images to the model; media refused by kind',
        left: [productMetric('TranscriptionSeconds'), productMetric('ImageInputs')],
        right: MEDIA_REFUSAL_KINDS.map((kind) => productMetric('MediaRefused', { dimension: kind })),
        width: 8,
      }),
    ],
  ];
}

/** QR mode: session failures and lease losses, runner tasks and their use, command queues. */
function qrRows(qr: NonNullable<OperationsDashboardProps['qr']>): IWidget[][] {
  const { runner } = qr;
  return [
    [
      new GraphWidget({
        title: 'QR sessions failed and restarted, shard leases taken and lost',
        left: [productMetric('QrSessionFailed'), productMetric('QrSessionRestarts')],
        right: [productMetric('QrLeaseAcquired'), productMetric('QrLeaseLost')],
        width: 8,
      }),
      new GraphWidget({
        title: `QR runner tasks (desired ${runner.shards})`,
        left: [runner.runningTaskCount()],
        leftYAxis: { min: 0 },
        width: 8,
      }),
      new GraphWidget({
        title: 'QR runner CPU and memory (% of the task)',
        left: [
          runner.service.metricCpuUtilization({ period, statistic: 'Maximum' }),
          runner.service.metricMemoryUtilization({ period, statistic: 'Maximum' }),
        ],
        leftYAxis: { min: 0, max: 100 },
        width: 8,
      }),
    ],
    [
      new GraphWidget({
        title: 'QR messages in, replies sent, commands expired',
        left: [
          productMetric('QrMessagesReceived'),
          productMetric('QrCommandsSent'),
          productMetric('QrCommandsExpired'),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'QR command queues: age of oldest command (s)',
        left: qr.commandQueues.map((q, shard) =>
          q.queue.metricApproximateAgeOfOldestMessage({
            period,
            statistic: 'Maximum',
            label: `shard ${shard}`,
          }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'QR command queues: depth and dead letters',
        left: qr.commandQueues.map((q, shard) =>
          q.queue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: `shard ${shard}`,
          }),
        ),
        right: qr.commandQueues.map((q, shard) =>
          q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: `shard ${shard} dead letters`,
          }),
        ),
        width: 8,
      }),
    ],
  ];
}
