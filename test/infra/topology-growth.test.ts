import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FunctionSpec, functions, type QueueSpec, queues } from '../../lib/topology.ts';
import { logicalId, props, resourcesOfType, roleActions, synthApp } from './support/synth.ts';

/**
 * The CDK app is built from the topology alone: a function, queue or schedule added there is deployed,
 * wired, granted and watched with no change to infra/cdk. These tests grow the topology with a
 * scheduled e-mailing function and a new queue with its consumer (their entries reuse existing
 * handler files: only the wiring is under test).
 */
const grownQueues: Record<string, QueueSpec> = {
  ...(queues as Record<string, QueueSpec>),
  notify: {
    name: 'notify',
    fifo: false,
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 3,
    urlEnv: 'NOTIFY_QUEUE_URL',
  },
};
const grownFunctions: Record<string, FunctionSpec> = {
  ...(functions as Record<string, FunctionSpec>),
  digest: {
    entry: 'purge',
    description: 'Mails each tenant a weekly digest',
    table: 'read',
    secrets: [],
    media: 'read',
    email: true,
    sendsTo: ['notify'],
    schedule: { expression: 'cron(0 6 ? * MON *)', description: 'Weekly digest' },
    timeoutSeconds: 60,
    memoryMb: 256,
  },
  notifier: {
    entry: 'provisioner',
    description: 'Delivers queued notifications',
    table: 'read',
    secrets: ['OPERATOR_API_KEY'],
    consumes: 'notify',
    timeoutSeconds: 30,
    memoryMb: 256,
    batchSize: 5,
    maxConcurrency: 2,
  },
};

describe('a grown topology', () => {
  let app: ReturnType<typeof synthApp>;
  const fnId = (name: string) => logicalId(app.stateless.stack, app.stateless.stack.functions[name]!.fn);
  const env = (name: string) =>
    (
      props(app.stateless.template.toJSON().Resources[fnId(name)]).Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  beforeAll(() => {
    // Given two new functions and a new queue in the topology, and an SES address identity
    app = synthApp({
      context: { stage: 'prod', sesIdentity: 'bot@example.com' },
      topology: { functions: grownFunctions, queues: grownQueues },
    });
  });

  it('deploys the new functions and the new queue with its dead-letter queue', () => {
    app.stateless.template.resourceCountIs('AWS::Lambda::Function', Object.keys(grownFunctions).length);
    const qrQueues = (app.stateful.stack.qr?.commandQueues.queues.length ?? 0) * 2;
    app.stateful.template.resourceCountIs('AWS::SQS::Queue', Object.keys(grownQueues).length * 2 + qrQueues);
  });

  it('schedules the new scheduled function and alarms on its errors', () => {
    app.stateless.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 ? * MON *)',
      Description: 'Weekly digest',
    });
    const errorAlarms = Object.values(resourcesOfType(app.stateless.template, 'AWS::CloudWatch::Alarm'))
      .map(props)
      .filter((a) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes(fnId('digest')));
    expect(errorAlarms).toHaveLength(1);
  });

  it('grants the new function exactly what its spec lists: e-mail, media reads, its queue, table reads', () => {
    const roleId = logicalId(app.stateless.stack, app.stateless.stack.functions.digest!.role);
    expect(roleActions(app.stateless.template, roleId)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      'ses:SendEmail',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(env('digest')).toMatchObject({
      EMAIL_IDENTITY: 'bot@example.com',
      SES_CONFIGURATION_SET: expect.anything(),
      MEDIA_BUCKET_NAME: expect.anything(),
      NOTIFY_QUEUE_URL: expect.anything(),
    });
  });

  it('consumes the new queue with the topology batch size and concurrency', () => {
    app.stateless.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('notifier') },
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('verifies an address identity by e-mail: no DKIM records to publish', () => {
    app.stateful.template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'bot@example.com',
    });
    expect(Object.keys(app.stateful.template.toJSON().Outputs)).not.toContain('DkimRecord1');
  });

  it('still passes cdk-nag', () => {
    expect(new AwsSolutionsChecks().validateScope(app.app).violations).toEqual([]);
  });
});

describe('a topology the CDK refuses', () => {
  it('refuses a queue that would become visible again while its consumer still runs', () => {
    const slow = { ...grownFunctions.notifier!, timeoutSeconds: 120 };
    expect(() =>
      synthApp({
        topology: { functions: { ...grownFunctions, notifier: slow }, queues: grownQueues },
        context: { sesIdentity: 'example.com' },
      }),
    ).toThrow(/visibility timeout 60 s is below the notifier timeout 120 s/);
  });

  it('refuses, in production, a function that sends e-mail when no SES identity is configured', () => {
    expect(() =>
      synthApp({ topology: { functions: grownFunctions, queues: grownQueues }, context: { stage: 'prod' } }),
    ).toThrow(/no SES identity is configured/);
  });

  it('refuses a function that names a queue the topology lacks', () => {
    const lost = { ...grownFunctions.notifier!, consumes: 'missing' };
    expect(() =>
      synthApp({
        topology: { functions: { ...grownFunctions, notifier: lost }, queues: grownQueues },
        context: { sesIdentity: 'example.com' },
      }),
    ).toThrow(/names queue missing/);
  });

  it('refuses bad deployment settings before anything reaches AWS', () => {
    expect(() => synthApp({ context: { stage: 'staging' } })).toThrow(/invalid CDK context: stage/);
    expect(() => synthApp({ context: { graphApiVersion: '26' } })).toThrow(/GRAPH_API_VERSION/);
    expect(() => synthApp({ context: { logRetentionDays: 10 } })).toThrow(/logRetentionDays 10/);
  });
});
