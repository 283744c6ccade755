import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, metricCatalog, RESPONDERS } from '../../lib/observability/metric-catalog.ts';
import {
  allRoutes,
  type FunctionSpec,
  functions,
  type PlatformSecret,
  type QueueSpec,
  queues,
} from '../../lib/topology.ts';
import {
  isStatefulReference,
  logicalId,
  props,
  resourcesOfType,
  roleActions,
  roleStatements,
  synthApp,
} from './support/synth.ts';

const SECRET_NAMES: PlatformSecret[] = [
  'META_APP_SECRET',
  'META_VERIFY_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'OPENAI_API_KEY',
  'OPERATOR_API_KEY',
];
const topologyFunctions = Object.entries(functions as Record<string, FunctionSpec>);
const topologyQueues = queues as Record<string, QueueSpec>;

let app: ReturnType<typeof synthApp>;
let template: Template;
const fnId = (name: string) => logicalId(app.stateless.stack, app.stateless.stack.functions[name]!.fn);
const roleId = (name: string) => logicalId(app.stateless.stack, app.stateless.stack.functions[name]!.role);
const fnProps = (name: string) => props(template.toJSON().Resources[fnId(name)]);

beforeAll(() => {
  // Given the production stage of the app, synthesized once for the whole file (no bundling)
  app = synthApp({ context: { stage: 'prod', sesIdentity: 'example.com', alarmEmail: 'ops@example.com' } });
  template = app.stateless.template;
});

describe('functions', () => {
  it('deploys one Node 24 arm64 function per topology entry, sized as the topology says', () => {
    template.resourceCountIs('AWS::Lambda::Function', topologyFunctions.length);
    for (const [name, spec] of topologyFunctions) {
      expect(fnProps(name)).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Description: spec.description,
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('gives every function its own log group with the stage retention and the Powertools service name', () => {
    for (const [name, spec] of topologyFunctions) {
      const logGroupId = logicalId(app.stateless.stack, app.stateless.stack.functions[name]!.logGroup);
      expect(fnProps(name).LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
      expect(template.toJSON().Resources[logGroupId]).toMatchObject({
        Properties: { RetentionInDays: 90 },
        DeletionPolicy: 'Retain',
      });
      expect((fnProps(name).Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: spec.entry,
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('attaches no AWS managed policy to any function role', () => {
    for (const [name] of topologyFunctions) {
      expect(props(template.toJSON().Resources[roleId(name)]).ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('environment: names, ARNs and URLs only', () => {
  const variables = (name: string) =>
    (fnProps(name).Environment as { Variables: Record<string, unknown> }).Variables;

  it('never names a secret itself: each secret arrives as <NAME>_SECRET_ARN, the ARN of its Secrets Manager secret', () => {
    for (const [name, spec] of topologyFunctions) {
      const env = variables(name);
      for (const secret of SECRET_NAMES) expect(Object.keys(env)).not.toContain(secret);
      for (const key of Object.keys(env).filter((k) => SECRET_NAMES.some((s) => k.includes(s)))) {
        expect(key).toMatch(/_SECRET_ARN$/);
      }
      const arnKeys = Object.keys(env).filter((k) => k.endsWith('_SECRET_ARN'));
      expect(arnKeys.sort()).toEqual(spec.secrets.map((s) => `${s}_SECRET_ARN`).sort());
      for (const secret of spec.secrets) {
        const secretId = logicalId(app.stateful.stack, app.stateful.stack.platformSecrets.secrets[secret]);
        expect(isStatefulReference(env[`${secret}_SECRET_ARN`], secretId)).toBe(true);
      }
    }
  });

  it('holds literal strings only for plain configuration', () => {
    const plain =
      /^(POWERTOOLS_\w+|NODE_OPTIONS|GRAPH_API_VERSION|OPENAI_MODEL|RETENTION_HOURS|EMAIL_IDENTITY)$/;
    for (const [name] of topologyFunctions) {
      for (const [key, value] of Object.entries(variables(name))) {
        if (typeof value === 'string') expect(key).toMatch(plain);
      }
    }
  });

  it('gives each function the URL of the queues it sends to, the table name, and the KMS key only with tenant secrets', () => {
    for (const [name, spec] of topologyFunctions) {
      const env = variables(name);
      expect(env.TABLE_NAME).toBeDefined();
      const queueUrlKeys = Object.keys(env).filter((k) => k.endsWith('_QUEUE_URL'));
      expect(queueUrlKeys.sort()).toEqual((spec.sendsTo ?? []).map((q) => topologyQueues[q]!.urlEnv).sort());
      expect('TENANT_SECRETS_KMS_KEY_ID' in env).toBe(spec.tenantSecrets !== undefined);
      expect('MEDIA_BUCKET_NAME' in env).toBe(spec.media !== undefined);
      expect(env).toMatchObject({
        GRAPH_API_VERSION: 'v26.0',
        OPENAI_MODEL: 'gpt-5-mini',
        RETENTION_HOURS: '24',
      });
    }
  });
});

describe('IAM: exactly the actions each function needs', () => {
  it('pins the webhook: read the table (routes in batches), send to the inbound queue, read its two secrets', () => {
    expect(roleActions(template, roleId('webhook'))).toMatchInlineSnapshot(`
      [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
    `);
  });

  it('pins the admin API', () => {
    expect(roleActions(template, roleId('adminApi'))).toMatchInlineSnapshot(`
      [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:Encrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "ses:SendEmail",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
    `);
  });

  it('pins the assistant', () => {
    expect(roleActions(template, roleId('assistant'))).toMatchInlineSnapshot(`
      [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
    `);
  });

  it('pins the reply-burst consumer: as the assistant (it answers the same way)', () => {
    expect(roleActions(template, roleId('replyBurst'))).toMatchInlineSnapshot(`
      [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
    `);
  });

  it('pins the provisioner', () => {
    expect(roleActions(template, roleId('provisioner'))).toMatchInlineSnapshot(`
      [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
    `);
  });

  it('gives the debounce its queue: the assistant and the reply-burst consumer send wake-ups, only the consumer receives them', () => {
    const replyBurst = app.stateful.stack.queues.replyBurst!;
    const queueId = logicalId(app.stateful.stack, replyBurst.queue);
    const sqsStatements = (name: string, action: string) =>
      JSON.stringify(
        roleStatements(template, roleId(name)).filter((s) => [s.Action].flat().includes(action)),
      );
    for (const name of ['assistant', 'replyBurst'])
      expect(sqsStatements(name, 'sqs:SendMessage')).toContain(queueId);
    expect(sqsStatements('replyBurst', 'sqs:ReceiveMessage')).toContain(queueId);
    expect(sqsStatements('assistant', 'sqs:ReceiveMessage')).not.toContain(queueId);
    for (const name of ['webhook', 'adminApi', 'web', 'provisioner', 'purge']) {
      expect(JSON.stringify(roleStatements(template, roleId(name)))).not.toContain(queueId);
    }
    // A standard queue (per-message delays), its URL given to the senders.
    expect(props(app.stateful.template.toJSON().Resources[queueId]).FifoQueue).toBeUndefined();
    for (const name of ['assistant', 'replyBurst']) {
      const variables = (fnProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.REPLY_BURST_QUEUE_URL).toBeDefined();
    }
  });

  it('pins every topology function (a new function gets its own snapshot here)', () => {
    const pinned = ['webhook', 'adminApi', 'web', 'assistant', 'replyBurst', 'provisioner', 'purge'];
    expect(topologyFunctions.map(([name]) => name).sort()).toEqual(pinned.sort());
  });

  it('pins the web pages: single items under SLUG#, CLIENT#, SESSION# and APIKEY# only (a client by its slug; the QR panel: its session, its key, its QR status), nothing else', () => {
    const table = roleStatements(template, roleId('web')).filter((statement) =>
      JSON.stringify(statement).includes('dynamodb:'),
    );
    expect(table).toHaveLength(1);
    expect(table[0]).toMatchObject({
      Action: 'dynamodb:GetItem',
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': ['SLUG#*', 'CLIENT#*', 'SESSION#*', 'APIKEY#*'],
        },
      },
    });
    expect(roleActions(template, roleId('web'))).toEqual([
      'dynamodb:GetItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('pins the purge', () => {
    expect(roleActions(template, roleId('purge'))).toMatchInlineSnapshot(`
      [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
    `);
  });

  it('uses no wildcard action, and the "*" resource only for X-Ray (which has no resource-level permissions)', () => {
    for (const [name] of topologyFunctions) {
      for (const statement of roleStatements(template, roleId(name))) {
        for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
        if ([statement.Resource].flat().includes('*')) {
          expect([statement.Action].flat().every((a) => String(a).startsWith('xray:'))).toBe(true);
        }
      }
    }
  });

  it('grants KMS Encrypt only to functions that store tenant secrets, Decrypt to those that read them', () => {
    for (const [name, spec] of topologyFunctions) {
      const kms = roleActions(template, roleId(name)).filter((a) => a.startsWith('kms:'));
      if (spec.tenantSecrets === 'encrypt-decrypt') expect(kms).toEqual(['kms:Decrypt', 'kms:Encrypt']);
      else if (spec.tenantSecrets === 'decrypt') expect(kms).toEqual(['kms:Decrypt']);
      else expect(kms).toEqual([]);
    }
  });

  it('grants BatchGetItem, on the table itself only, to the functions the topology names (the webhook)', () => {
    for (const [name, spec] of topologyFunctions) {
      const batchGets = roleStatements(template, roleId(name)).filter((statement) =>
        [statement.Action].flat().includes('dynamodb:BatchGetItem'),
      );
      expect(batchGets.length > 0, name).toBe(spec.tableBatchGet === true);
      for (const statement of batchGets) {
        const resources = [statement.Resource].flat().map((r) => JSON.stringify(r));
        expect(resources.some((r) => r.includes('/index/'))).toBe(false);
      }
    }
    expect((functions as Record<string, FunctionSpec>).webhook!.tableBatchGet).toBe(true);
  });

  it('grants write actions on the table only to read-write functions', () => {
    for (const [name, spec] of topologyFunctions) {
      const writes = roleActions(template, roleId(name)).filter((a) =>
        /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a),
      );
      expect(writes.length > 0).toBe(spec.table === 'read-write');
    }
  });
});

describe('HTTP API: the topology agrees with AWS', () => {
  it('has a route for every topology route, integrated with the function that serves it', () => {
    const routes = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).map(props);
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    const targetFunction = (route: Record<string, unknown>) => {
      const join = (route.Target as { 'Fn::Join': [string, Array<string | { Ref: string }>] })['Fn::Join'];
      const integrationId = (join[1][1] as { Ref: string }).Ref;
      return (props(integrations[integrationId]!).IntegrationUri as { 'Fn::GetAtt': [string] })[
        'Fn::GetAtt'
      ][0];
    };
    expect(routes).toHaveLength(allRoutes().length);
    for (const route of allRoutes()) {
      const deployed = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
      expect(deployed, `${route.method} ${route.path}`).toBeDefined();
      expect(targetFunction(deployed!)).toBe(fnId(route.fn));
    }
  });

  it('throttles and access-logs the default stage, and enables no CORS', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"routeKey"') },
    });
    const stage = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'))[0]!;
    expect(JSON.stringify(props(stage).AccessLogSettings)).not.toContain('$context.path');
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
  });

  it('uses payload format 2.0 for every integration', () => {
    for (const integration of Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'))) {
      expect(props(integration)).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });
});

describe('queue consumers', () => {
  it('maps each consumed queue to its function with partial batch responses, batch size and max concurrency from the topology', () => {
    const consumers = topologyFunctions.filter(([, spec]) => spec.consumes);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', consumers.length);
    for (const [name, spec] of consumers) {
      const queueId = logicalId(app.stateful.stack, app.stateful.stack.queues[spec.consumes!]!.queue);
      const mapping = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'))
        .map(props)
        .find((m) => (m.FunctionName as { Ref: string }).Ref === fnId(name))!;
      expect(mapping).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: spec.batchSize,
        ScalingConfig: { MaximumConcurrency: spec.maxConcurrency },
      });
      expect(isStatefulReference(mapping.EventSourceArn, queueId)).toBe(true);
    }
  });

  it('keeps every consumed queue invisible for longer than its consumer may run', () => {
    for (const [, spec] of topologyFunctions.filter(([, s]) => s.consumes)) {
      expect(topologyQueues[spec.consumes!]!.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(
        spec.timeoutSeconds,
      );
    }
  });
});

describe('schedules', () => {
  const scheduled = topologyFunctions.filter(([, spec]) => spec.schedule);

  it('invokes each scheduled function with EventBridge Scheduler, at the topology expression', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', scheduled.length);
    for (const [name, spec] of scheduled) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: spec.schedule!.expression,
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(name), 'Arn'] },
          DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }),
        }),
      });
    }
  });

  it('lets the schedule role invoke that one function and nothing else (plus its dead-letter queue)', () => {
    const [deadLetterQueueId] = Object.keys(resourcesOfType(template, 'AWS::SQS::Queue'));
    for (const [name] of scheduled) {
      const schedule = app.stateless.stack.schedules[name]!;
      const statements = roleStatements(template, logicalId(app.stateless.stack, schedule.role));
      expect(statements).toEqual([
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: { 'Fn::GetAtt': [fnId(name), 'Arn'] },
        }),
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
        }),
      ]);
    }
  });
});

describe('alarms and dashboard', () => {
  const alarms = () => Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map(props);

  it('alarms on errors of every function', () => {
    for (const [name] of topologyFunctions) {
      expect(
        alarms().some(
          (a) =>
            a.MetricName === 'Errors' &&
            JSON.stringify(a.Dimensions) ===
              JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fnId(name) } }]),
        ),
        name,
      ).toBe(true);
    }
  });

  it('alarms when any dead-letter queue holds a message, and when the inbound queue backs up', () => {
    const depth = alarms().filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    const scheduleDlq = topologyFunctions.some(([, s]) => s.schedule) ? 1 : 0;
    const qrDlqs = app.stateful.stack.qr?.commandQueues.queues.length ?? 0;
    expect(depth).toHaveLength(Object.keys(topologyQueues).length + scheduleDlq + qrDlqs);
    for (const alarm of depth) expect(alarm).toMatchObject({ Threshold: 1, Statistic: 'Maximum' });
    expect(
      alarms().some(
        (a) => a.MetricName === 'ApproximateAgeOfOldestMessage' && String(a.AlarmName).includes('inbound'),
      ),
    ).toBe(true);
  });

  it("alarms on the webhook's p99 latency above Meta's 1 s", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Threshold: 1000,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('webhook') } }],
    });
  });

  it('notifies an encrypted, TLS-only topic on alarm and on recovery', () => {
    const topicId = logicalId(app.stateless.stack, app.stateless.stack.alarms.topic);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      }),
    });
  });

  it('has one dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  /** The metrics (namespace, name, dimensions) an alarm's math or metric reads. */
  const metricsOf = (alarm: Record<string, unknown>) => {
    const stats = (
      (alarm.Metrics as Array<{ MetricStat?: { Metric: Record<string, unknown> } }>) ?? []
    ).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    return alarm.MetricName
      ? [{ Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions }, ...stats]
      : stats;
  };
  const alarmNamed = (suffix: string) => {
    const alarm = alarms().find((a) => String(a.AlarmName).endsWith(`-${suffix}`));
    expect(alarm, suffix).toBeDefined();
    return alarm as Record<string, unknown>;
  };

  it('alarms on the fallback rate from the answers every responder reports, in the namespace the functions emit to', () => {
    const alarm = alarmNamed('fallback-rate');
    expect(alarm).toMatchObject({ Threshold: 20, EvaluationPeriods: 3 });
    const read = metricsOf(alarm);
    expect(read.every((m) => m.Namespace === METRICS_NAMESPACE && m.MetricName === 'MessagesAnswered')).toBe(
      true,
    );
    const responders = read.flatMap((m) =>
      (m.Dimensions as Array<{ Name: string; Value: string }>)
        .filter((d) => d.Name === 'responder')
        .map((d) => d.Value),
    );
    expect(new Set(responders)).toEqual(new Set(RESPONDERS));
    const variables = (fnProps('assistant').Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
  });

  it('alarms on the Graph error rate over sent replies, on refused tokens, rejected signatures and failed builds', () => {
    const rate = metricsOf(alarmNamed('graph-error-rate')).map((m) => m.MetricName);
    expect(new Set(rate)).toEqual(new Set(['GraphErrors', 'RepliesSent']));
    expect(metricsOf(alarmNamed('graph-token-invalid'))[0]).toMatchObject({
      MetricName: 'GraphErrors',
      Dimensions: expect.arrayContaining([
        { Name: 'kind', Value: 'token_invalid' },
        { Name: 'service', Value: 'assistant' },
      ]),
    });
    expect(metricsOf(alarmNamed('webhook-signature-rejected'))[0]).toMatchObject({
      MetricName: 'SignatureRejected',
      Dimensions: [{ Name: 'service', Value: 'webhook' }],
    });
    expect(metricsOf(alarmNamed('provisioning-failures'))[0]?.MetricName).toBe('ProvisioningFailures');
    expect(metricsOf(alarmNamed('webhook-items-dropped'))[0]).toMatchObject({
      MetricName: 'ItemsDropped',
      Dimensions: [{ Name: 'service', Value: 'webhook' }],
    });
  });

  it('shows every metric of the catalogue on the dashboard', () => {
    const dashboard = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard')).map(props)[0];
    const body = JSON.stringify(dashboard?.DashboardBody);
    for (const name of Object.keys(metricCatalog)) expect(body, name).toContain(name);
  });
});

describe('the admin API sends invitations and links landing pages', () => {
  it('may send e-mail only from the SES identity through the configuration set', () => {
    const ses = roleStatements(template, roleId('adminApi')).filter((statement) =>
      JSON.stringify(statement).includes('ses:'),
    ) as Array<{ Action: unknown; Resource: unknown[] }>;
    expect(ses).toHaveLength(1);
    expect(ses[0]!.Action).toBe('ses:SendEmail');
    const resources = JSON.stringify(ses[0]!.Resource);
    expect(ses[0]!.Resource).toHaveLength(2);
    expect(resources).toContain('identity/');
    expect(resources).toContain('configuration-set/');
    for (const name of ['webhook', 'assistant', 'provisioner', 'purge']) {
      expect(JSON.stringify(roleStatements(template, roleId(name)))).not.toContain('ses:');
    }
  });

  it('gets the identity, the configuration set and the public URL (the API endpoint by default)', () => {
    const environment = (fnProps('adminApi').Environment as { Variables: Record<string, unknown> }).Variables;
    expect(environment.EMAIL_IDENTITY).toBe('example.com');
    expect(environment.SES_CONFIGURATION_SET).toBeDefined();
    expect(JSON.stringify(environment.PUBLIC_BASE_URL)).toMatch(/HttpApi.*ApiEndpoint/);
    const webhookEnvironment = (fnProps('webhook').Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(webhookEnvironment.PUBLIC_BASE_URL).toBeUndefined();
  });

  it('takes a custom domain, a sender and the Meta app id from the context', () => {
    const custom = synthApp({
      context: {
        stage: 'prod',
        sesIdentity: 'example.com',
        sesFromAddress: 'hola@example.com',
        publicBaseUrl: 'https://wa.example.com/',
        metaAppId: '123456789012345',
      },
    });
    const fn = custom.stateless.stack.functions.adminApi!.fn;
    const resource = custom.stateless.template.toJSON().Resources[logicalId(custom.stateless.stack, fn)];
    expect((props(resource).Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      PUBLIC_BASE_URL: 'https://wa.example.com',
      SES_FROM_ADDRESS: 'hola@example.com',
      META_APP_ID: '123456789012345',
    });
  });

  it('given a dev stage without an SES identity, grants no e-mail and passes no identity', () => {
    const dev = synthApp({ context: { stage: 'dev' } });
    const devRole = logicalId(dev.stateless.stack, dev.stateless.stack.functions.adminApi!.role);
    expect(JSON.stringify(roleStatements(dev.stateless.template, devRole))).not.toContain('ses:');
    const fn = dev.stateless.stack.functions.adminApi!.fn;
    const resource = dev.stateless.template.toJSON().Resources[logicalId(dev.stateless.stack, fn)];
    expect(
      (props(resource).Environment as { Variables: Record<string, unknown> }).Variables.EMAIL_IDENTITY,
    ).toBeUndefined();
  });
});
