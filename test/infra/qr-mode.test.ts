import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { qrCommandQueueSpec } from '../../infra/cdk/constructs/qr-command-queues.ts';
import { fargateTaskSize } from '../../infra/cdk/constructs/qr-runner-service.ts';
import { METRICS_NAMESPACE } from '../../lib/observability/metric-catalog.ts';
import { type QueueSpec, queues } from '../../lib/topology.ts';
import { logicalId, props, resourcesOfType, roleStatements, synthApp } from './support/synth.ts';

type Json = Record<string, unknown>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Json };
const topologyQueueCount = Object.keys(queues as Record<string, QueueSpec>).length;

const only = (template: Template, type: string): Json => {
  const found = Object.values(resourcesOfType(template, type));
  expect(found, type).toHaveLength(1);
  return props(found[0]!);
};
const envOf = (container: Json): Record<string, unknown> =>
  Object.fromEntries(
    (container.Environment as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]),
  );
const actionsOf = (statement: Statement) => [statement.Action].flat();
const alarmsOf = (template: Template) =>
  Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map(props);
const alarmNamed = (template: Template, suffix: string) =>
  alarmsOf(template).find((a) => String(a.AlarmName).endsWith(`-${suffix}`));

describe('fargateTaskSize: the cheapest valid Fargate size for a sessions-per-task budget', () => {
  it.each([
    // sessions, needed (0.3 vCPU and 400 MiB each, +512 MiB), chosen combination
    { sessions: 1, cpu: 512, memoryMiB: 1024, neededCpu: 308, neededMemory: 912 },
    { sessions: 2, cpu: 1024, memoryMiB: 2048, neededCpu: 615, neededMemory: 1312 },
    { sessions: 3, cpu: 1024, memoryMiB: 2048, neededCpu: 922, neededMemory: 1712 },
    { sessions: 4, cpu: 2048, memoryMiB: 4096, neededCpu: 1229, neededMemory: 2112 },
    { sessions: 6, cpu: 2048, memoryMiB: 4096, neededCpu: 1844, neededMemory: 2912 },
    { sessions: 10, cpu: 4096, memoryMiB: 8192, neededCpu: 3072, neededMemory: 4512 },
    { sessions: 20, cpu: 8192, memoryMiB: 16_384, neededCpu: 6144, neededMemory: 8512 },
    { sessions: 53, cpu: 16_384, memoryMiB: 32_768, neededCpu: 16_282, neededMemory: 21_712 },
  ])(
    '$sessions sessions → $cpu CPU units, $memoryMiB MiB',
    ({ sessions, cpu, memoryMiB, neededCpu, neededMemory }) => {
      const size = fargateTaskSize(sessions);
      expect(size).toMatchObject({ cpu, memoryMiB, needed: { cpu: neededCpu, memoryMiB: neededMemory } });
      expect(size.cpu).toBeGreaterThanOrEqual(size.needed.cpu);
      expect(size.memoryMiB).toBeGreaterThanOrEqual(size.needed.memoryMiB);
    },
  );

  it('prices the task from the us-east-1 Fargate rates', () => {
    // 2 vCPU × $0.04048 + 4 GB × $0.004445
    expect(fargateTaskSize(4).hourlyUsd).toBeCloseTo(0.09874, 6);
  });

  it('refuses a budget no Fargate task can hold, and a non-positive one', () => {
    expect(() => fargateTaskSize(54)).toThrow(/largest Fargate task/);
    expect(() => fargateTaskSize(0)).toThrow(RangeError);
    expect(() => fargateTaskSize(1.5)).toThrow(RangeError);
  });
});

describe('QR mode on AWS, production stage, default settings (1 shard, 4 sessions per task)', () => {
  let app: ReturnType<typeof synthApp>;
  let stateless: Template;
  let stateful: Template;
  let container: Json;

  beforeAll(() => {
    // Given the production stage with the default QR settings, synthesized once
    app = synthApp({ context: { stage: 'prod', sesIdentity: 'example.com', alarmEmail: 'ops@example.com' } });
    stateless = app.stateless.template;
    stateful = app.stateful.template;
    container = (only(stateless, 'AWS::ECS::TaskDefinition').ContainerDefinitions as Json[])[0]!;
  });

  it('runs one Fargate service without a load balancer, one task per shard, in public subnets', () => {
    const service = only(stateless, 'AWS::ECS::Service');
    expect(service).toMatchObject({
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      DeploymentConfiguration: {
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      },
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } },
    });
    expect(service.LoadBalancers ?? []).toEqual([]);
    for (const type of [
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancing::LoadBalancer',
      'AWS::EC2::NatGateway',
    ]) {
      stateless.resourceCountIs(type, 0);
    }
    expect(only(stateless, 'AWS::ECS::Cluster').ClusterSettings).toEqual([
      { Name: 'containerInsights', Value: 'enabled' },
    ]);
    // No ingress at all: nothing reaches the runner from outside.
    expect(only(stateless, 'AWS::EC2::SecurityGroup').SecurityGroupIngress).toBeUndefined();
    stateless.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('sizes the task from the sessions-per-task budget and gives it 120 s to stop', () => {
    const task = only(stateless, 'AWS::ECS::TaskDefinition');
    expect(task).toMatchObject({
      Cpu: String(fargateTaskSize(4).cpu),
      Memory: String(fargateTaskSize(4).memoryMiB),
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
    });
    expect(task.Cpu).toBe('2048');
    expect(task.Memory).toBe('4096');
    expect(container).toMatchObject({ Essential: true, StopTimeout: 120 });
    expect((container.HealthCheck as { Command: string[] }).Command.join(' ')).toContain('/health');
  });

  it('builds the image from the repository Dockerfile as an asset (staged at synth, built at deploy)', () => {
    expect(JSON.stringify(container.Image)).toContain('container-assets');
    const assembly = app.app.synth();
    const assets = JSON.parse(
      readFileSync(join(assembly.directory, `${app.stateless.stack.artifactId}.assets.json`), 'utf8'),
    ) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
    };
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source).toMatchObject({ dockerFile: 'Dockerfile.qr-runner', platform: 'linux/amd64' });
    // The staged build context is the .dockerignore allow-list: no node_modules, tests or cdk.out.
    const staged = readdirSync(join(assembly.directory, images[0]!.source.directory)).sort();
    expect(staged).toEqual([
      '.dockerignore',
      '.puppeteerrc.cjs',
      'Dockerfile.qr-runner',
      'functions',
      'lib',
      'package-lock.json',
      'package.json',
      'tsconfig.json',
    ]);
  });

  it("logs to its own log group with the stage's retention", () => {
    const logging = container.LogConfiguration as { LogDriver: string; Options: Record<string, unknown> };
    expect(logging.LogDriver).toBe('awslogs');
    const groupId = logicalId(app.stateless.stack, app.stateless.stack.qrRunner!.logGroup);
    expect(logging.Options['awslogs-group']).toEqual({ Ref: groupId });
    expect(stateless.toJSON().Resources[groupId]).toMatchObject({
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });

  it('gives the runner its configuration, and no QR_RUNNER_ID (it names itself by its ECS task id)', () => {
    const env = envOf(container);
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'TABLE_NAME',
        'INBOUND_QUEUE_URL',
        'QR_COMMAND_QUEUE_URLS',
        'QR_SESSION_BUCKET',
        'MEDIA_BUCKET_NAME',
        'QR_ENGINE',
        'QR_SESSIONS_PER_TASK',
        'CHROMIUM_PATH',
        'QR_RUNNER_HEALTH_PORT',
      ]),
    );
    expect(env).toMatchObject({
      QR_ENGINE: 'wwebjs',
      QR_SESSIONS_PER_TASK: '4',
      CHROMIUM_PATH: '/usr/bin/chromium',
      QR_RUNNER_HEALTH_PORT: '8080',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    });
    expect(env.QR_RUNNER_ID).toBeUndefined();
    expect(JSON.stringify(env.QR_SESSION_BUCKET)).toContain('wa-assistant-prod-qr-sessions-');
    expect(JSON.stringify(env.MEDIA_BUCKET_NAME)).toContain('wa-assistant-prod-media-');
  });

  describe('the task role: least privilege', () => {
    let statements: Statement[];
    beforeAll(() => {
      const roleId = logicalId(app.stateless.stack, app.stateless.stack.qrRunner!.taskRole);
      statements = roleStatements(stateless, roleId) as unknown as Statement[];
    });

    it('names resources for every SQS, S3 and DynamoDB statement (no "*")', () => {
      const scoped = statements.filter((s) => actionsOf(s).some((a) => /^(sqs|s3|dynamodb):/.test(a)));
      expect(scoped.length).toBeGreaterThanOrEqual(4);
      for (const statement of scoped) {
        for (const resource of [statement.Resource].flat())
          expect(resource, JSON.stringify(statement)).not.toBe('*');
      }
      // Nothing outside SQS, S3 and DynamoDB: no KMS (SSE-SQS, SSE-S3, AWS-managed table key).
      expect(statements.flatMap(actionsOf).filter((a) => !/^(sqs|s3|dynamodb):/.test(a))).toEqual([]);
    });

    it('reaches only lease, membership and status items (dynamodb:LeadingKeys), without Scan or Delete', () => {
      const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo).toHaveLength(1);
      expect(actionsOf(dynamo[0]!).sort()).toEqual([
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      expect(dynamo[0]!.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['QRSHARD#*', 'CLIENT#*'] },
      });
      expect(JSON.stringify(dynamo[0]!.Resource)).not.toContain('index');
    });

    it('consumes its command queues and sends to the inbound queue only', () => {
      const sqs = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
      const consume = sqs.filter((s) => actionsOf(s).includes('sqs:ReceiveMessage'));
      const send = sqs.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      const commandQueue = app.stateful.stack.qr!.commandQueues.queues[0]!.queue;
      const inbound = app.stateful.stack.queues.inbound!.queue;
      expect(JSON.stringify(consume)).toContain(logicalId(app.stateful.stack, commandQueue));
      expect(JSON.stringify(consume)).not.toContain(logicalId(app.stateful.stack, inbound));
      expect(JSON.stringify(send)).toContain(logicalId(app.stateful.stack, inbound));
      expect(JSON.stringify(send)).not.toContain(logicalId(app.stateful.stack, commandQueue));
    });

    it('gets, puts and deletes objects under qr-sessions/ of the session bucket only', () => {
      const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
      const objects = s3.find((s) => actionsOf(s).includes('s3:GetObject'))!;
      expect(actionsOf(objects).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
      const resource = JSON.stringify(objects.Resource);
      expect(resource).toContain('wa-assistant-prod-qr-sessions-');
      expect(resource).toMatch(/\/qr-sessions\/\*"\]\]\}$/);
      // ListBucket (404 for a missing snapshot instead of 403) on that bucket alone.
      const list = s3.find((s) => actionsOf(s).includes('s3:ListBucket'))!;
      expect(JSON.stringify(list.Resource)).toContain('wa-assistant-prod-qr-sessions-');
      expect(JSON.stringify(list.Resource)).not.toContain('/');
      expect(s3).toHaveLength(3);
    });

    it('only puts objects under <tenant>/media/ of the media bucket: no read, list or delete there', () => {
      const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
      const media = s3.filter((s) => JSON.stringify(s.Resource).includes('wa-assistant-prod-media-'));
      expect(media).toHaveLength(1);
      expect(actionsOf(media[0]!)).toEqual(['s3:PutObject']);
      expect(JSON.stringify(media[0]!.Resource)).toMatch(/\/\*\/media\/\*"\]\]\}$/);
    });
  });

  it('keeps session snapshots in a versioned, encrypted, private, TLS-only bucket with access logs', () => {
    const bucket = app.stateful.stack.qr!.sessions.bucket;
    const resource = stateful.toJSON().Resources[logicalId(app.stateful.stack, bucket)];
    expect(resource).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(props(resource)).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: expect.objectContaining({ LogFilePrefix: 'qr-sessions/' }),
      LifecycleConfiguration: {
        Rules: expect.arrayContaining([
          expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 }, Status: 'Enabled' }),
        ]),
      },
    });
    const policy = Object.values(resourcesOfType(stateful, 'AWS::S3::BucketPolicy'))
      .map(props)
      .find((p) => JSON.stringify(p.Bucket).includes(logicalId(app.stateful.stack, bucket)));
    expect(JSON.stringify(policy?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('creates one encrypted command queue with a dead-letter queue per shard', () => {
    stateful.resourceCountIs('AWS::SQS::Queue', topologyQueueCount * 2 + 2);
    const [shard] = app.stateful.stack.qr!.commandQueues.queues;
    expect(props(stateful.toJSON().Resources[logicalId(app.stateful.stack, shard!.queue)])).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: qrCommandQueueSpec.visibilityTimeoutSeconds,
      RedrivePolicy: { maxReceiveCount: qrCommandQueueSpec.maxReceiveCount },
    });
    expect(
      props(stateful.toJSON().Resources[logicalId(app.stateful.stack, shard!.queue)]).FifoQueue,
    ).toBeUndefined();
  });

  it('alarms on failed sessions, lease churn, command age, command dead letters and missing tasks', () => {
    expect(alarmNamed(stateless, 'qr-session-failed')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: 'QrSessionFailed',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'service', Value: 'qr-runner' }],
    });
    expect(alarmNamed(stateless, 'qr-lease-churn')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: 'QrLeaseLost',
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 1,
      Threshold: 3,
    });
    expect(alarmNamed(stateless, 'qr-commands-0-queue-age')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 300,
    });
    expect(alarmNamed(stateless, 'qr-commands-0-dead-letters')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    expect(alarmNamed(stateless, 'qr-runner-tasks')).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    const topic = logicalId(app.stateless.stack, app.stateless.stack.alarms.topic);
    for (const name of [
      'qr-session-failed',
      'qr-lease-churn',
      'qr-commands-0-queue-age',
      'qr-runner-tasks',
    ]) {
      expect(alarmNamed(stateless, name)!.AlarmActions, name).toEqual([{ Ref: topic }]);
    }
  });

  it('shows the runner and the command queues on the operations dashboard', () => {
    const body = JSON.stringify(only(stateless, 'AWS::CloudWatch::Dashboard').DashboardBody);
    for (const text of ['QrSessionFailed', 'QrLeaseLost', 'RunningTaskCount', 'QR command queues']) {
      expect(body, text).toContain(text);
    }
  });

  it('lets the assistant and the admin API send commands, and the admin API delete sessions', () => {
    const fnEnv = (name: string) =>
      (
        props(
          stateless.toJSON().Resources[
            logicalId(app.stateless.stack, app.stateless.stack.functions[name]!.fn)
          ],
        ).Environment as { Variables: Record<string, unknown> }
      ).Variables;
    const roleOf = (name: string) =>
      roleStatements(
        stateless,
        logicalId(app.stateless.stack, app.stateless.stack.functions[name]!.role),
      ) as unknown as Statement[];
    const commandQueueId = logicalId(
      app.stateful.stack,
      app.stateful.stack.qr!.commandQueues.queues[0]!.queue,
    );

    for (const name of ['assistant', 'adminApi']) {
      expect(JSON.stringify(fnEnv(name).QR_COMMAND_QUEUE_URLS), name).toContain(commandQueueId);
      const sends = roleOf(name).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      expect(JSON.stringify(sends), name).toContain(commandQueueId);
    }
    expect(JSON.stringify(fnEnv('adminApi').QR_SESSION_BUCKET)).toContain('wa-assistant-prod-qr-sessions-');
    const deletes = roleOf('adminApi').filter((s) => JSON.stringify(s.Resource).includes('qr-sessions'));
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.Action).toBe('s3:DeleteObject');
    expect(JSON.stringify(deletes[0]!.Resource)).toMatch(/\/qr-sessions\/\*"\]\]\}$/);

    // The web pages learn that QR mode is on (to show the QR panel), with no grant on the queues.
    expect(JSON.stringify(fnEnv('web').QR_COMMAND_QUEUE_URLS)).toContain(commandQueueId);
    expect(fnEnv('web').QR_SESSION_BUCKET).toBeUndefined();
    for (const name of ['web', 'webhook', 'provisioner', 'purge']) {
      expect(JSON.stringify(roleOf(name)), name).not.toContain(commandQueueId);
      expect(JSON.stringify(roleOf(name)), name).not.toContain('qr-sessions');
    }
    // Nobody else hears of QR mode.
    for (const name of ['webhook', 'provisioner', 'purge']) {
      expect(fnEnv(name).QR_COMMAND_QUEUE_URLS, name).toBeUndefined();
      expect(JSON.stringify(roleOf(name)), name).not.toContain(commandQueueId);
      expect(JSON.stringify(roleOf(name)), name).not.toContain('qr-sessions');
    }
    expect(fnEnv('assistant').QR_SESSION_BUCKET).toBeUndefined();
  });
});

describe('QR mode with 3 shards and 10 sessions per task', () => {
  let app: ReturnType<typeof synthApp>;

  beforeAll(() => {
    // Given the dev stage with qrShards=3 and qrSessionsPerTask=10
    app = synthApp({ context: { stage: 'dev', qrShards: '3', qrSessionsPerTask: '10' } });
  });

  it('runs three tasks of the size ten sessions need, with three command queues in shard order', () => {
    expect(only(app.stateless.template, 'AWS::ECS::Service').DesiredCount).toBe(3);
    const task = only(app.stateless.template, 'AWS::ECS::TaskDefinition');
    expect(task).toMatchObject({ Cpu: '4096', Memory: '8192' });
    const env = envOf((task.ContainerDefinitions as Json[])[0]!);
    expect(env.QR_SESSIONS_PER_TASK).toBe('10');
    app.stateful.template.resourceCountIs('AWS::SQS::Queue', topologyQueueCount * 2 + 6);
    const urls = JSON.stringify(env.QR_COMMAND_QUEUE_URLS);
    const ids = app.stateful.stack.qr!.commandQueues.queues.map((q) =>
      logicalId(app.stateful.stack, q.queue),
    );
    expect(ids).toHaveLength(3);
    const positions = ids.map((id) => urls.indexOf(id));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Comma-separated, as lib/config.ts parses it.
    const [, parts] = (env.QR_COMMAND_QUEUE_URLS as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    expect(parts.filter((part) => part === ',')).toHaveLength(2);
  });

  it('alarms on each command queue and on fewer than three running tasks', () => {
    for (const shard of [0, 1, 2])
      expect(alarmNamed(app.stateless.template, `qr-commands-${shard}-queue-age`)).toBeDefined();
    expect(alarmNamed(app.stateless.template, 'qr-runner-tasks')).toMatchObject({ Threshold: 3 });
  });

  it('passes the cdk-nag AWS Solutions checks', () => {
    const report = new AwsSolutionsChecks().validateScope(app.app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('QR mode off (qrShards=0)', () => {
  let app: ReturnType<typeof synthApp>;

  beforeAll(() => {
    // Given the dev stage with qrShards=0
    app = synthApp({ context: { stage: 'dev', qrShards: 0 } });
  });

  it('deploys no cluster, runner, session bucket or command queue, and tells no function of QR mode', () => {
    expect(app.stateful.stack.qr).toBeUndefined();
    expect(app.stateless.stack.qrRunner).toBeUndefined();
    for (const type of [
      'AWS::ECS::Cluster',
      'AWS::ECS::Service',
      'AWS::ECS::TaskDefinition',
      'AWS::EC2::VPC',
    ]) {
      app.stateless.template.resourceCountIs(type, 0);
    }
    app.stateful.template.resourceCountIs('AWS::SQS::Queue', topologyQueueCount * 2);
    expect(JSON.stringify(app.stateful.template.toJSON())).not.toContain('qr-sessions');
    const stateless = JSON.stringify(app.stateless.template.toJSON());
    expect(stateless).not.toContain('QR_COMMAND_QUEUE_URLS');
    expect(stateless).not.toContain('qr-sessions');
    expect(alarmNamed(app.stateless.template, 'qr-session-failed')).toBeUndefined();
  });
});
