import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FlowLogDestination, FlowLogTrafficType, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  type CfnTaskDefinition,
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargatePlatformVersion,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../../lib/observability/metric-catalog.ts';
import { nagResourceName } from '../grants.ts';
import { repoRoot } from '../paths.ts';
import type { QrCommandQueues } from './qr-command-queues.ts';
import { QR_SESSION_PREFIX } from './qr-session-bucket.ts';

/**
 * The sizing budget of one QR session (whatsapp-web.js: one Chromium per session; WAHA's published
 * figures for this engine, docs/qr-mode.md): about a third of a vCPU and 400 MB, plus 512 MB for
 * Node, the runner and the OS.
 */
export const QR_SESSION_BUDGET = { vcpu: 0.3, memoryMiB: 400, baseMemoryMiB: 512 } as const;

/** Fargate on-demand prices used to pick the cheapest size (us-east-1, Linux/x86, per hour). */
export const FARGATE_PRICES = { vcpuHour: 0.04048, gbHour: 0.004445 } as const;

/** Every valid Fargate (Linux) cpu / memory combination: cpu units → memory MiB allowed. */
function fargateCombinations(): Array<{ cpu: number; memoryMiB: number }> {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  const table: Array<[number, number[]]> = [
    [256, [512, 1024, 2048]],
    [512, range(1024, 4096, 1024)],
    [1024, range(2048, 8192, 1024)],
    [2048, range(4096, 16_384, 1024)],
    [4096, range(8192, 30_720, 1024)],
    [8192, range(16_384, 61_440, 4096)],
    [16_384, range(32_768, 122_880, 8192)],
  ];
  return table.flatMap(([cpu, memories]) => memories.map((memoryMiB) => ({ cpu, memoryMiB })));
}

export interface FargateTaskSize {
  /** CPU units (1024 = 1 vCPU). */
  cpu: number;
  memoryMiB: number;
  /** What the budget asks for, before rounding up to a valid combination. */
  needed: { cpu: number; memoryMiB: number };
  /** On-demand price of the task per hour (FARGATE_PRICES). */
  hourlyUsd: number;
}

/**
 * The cheapest valid Fargate size for `sessions` QR sessions per task: at least 0.3 vCPU per session
 * and 400 MiB per session plus 512 MiB (QR_SESSION_BUDGET). Throws when no Fargate size fits.
 */
export function fargateTaskSize(sessions: number): FargateTaskSize {
  if (!Number.isInteger(sessions) || sessions < 1) {
    throw new RangeError(`sessions per task must be a positive integer, got ${sessions}`);
  }
  const needed = {
    cpu: Math.ceil(sessions * QR_SESSION_BUDGET.vcpu * 1024),
    memoryMiB: sessions * QR_SESSION_BUDGET.memoryMiB + QR_SESSION_BUDGET.baseMemoryMiB,
  };
  const price = (c: { cpu: number; memoryMiB: number }) =>
    (c.cpu / 1024) * FARGATE_PRICES.vcpuHour + (c.memoryMiB / 1024) * FARGATE_PRICES.gbHour;
  const fits = fargateCombinations()
    .filter((c) => c.cpu >= needed.cpu && c.memoryMiB >= needed.memoryMiB)
    .sort((a, b) => price(a) - price(b) || a.cpu - b.cpu);
  const best = fits[0];
  if (!best) {
    throw new RangeError(
      `${sessions} QR sessions need ${needed.cpu} CPU units and ${needed.memoryMiB} MiB: more than the largest Fargate task`,
    );
  }
  return { ...best, needed, hourlyUsd: Number(price(best).toFixed(6)) };
}

/** The runner's health port (lib/config.ts QR_RUNNER_HEALTH_PORT; the Dockerfile's HEALTHCHECK too). */
export const QR_RUNNER_HEALTH_PORT = 8080;
/** ECS's longest stop timeout on Fargate: time to stop taking commands, save sessions, release the lease. */
export const QR_RUNNER_STOP_TIMEOUT_SECONDS = 120;
/** The Dockerfile at the repository root the image is built from (at deploy time, not at synth). */
export const QR_RUNNER_DOCKERFILE = 'Dockerfile.qr-runner';

export interface QrRunnerServiceProps {
  /** One task per shard (each holds one shard's lease). */
  shards: number;
  /** The sessions-per-task budget: the task size and QR_SESSIONS_PER_TASK. */
  sessionsPerTask: number;
  table: ITable;
  /** The inbound FIFO queue (customer messages and send outcomes, channel `qr`). */
  inboundQueue: IQueue;
  inboundQueueUrlEnv: string;
  commandQueues: QrCommandQueues;
  /** The session bucket's name (QrSessionBucket: computable, no cross-stack reference). */
  sessionBucketName: string;
  /** The media bucket's name (MediaBucket: computable too), where customers' media is kept. */
  mediaBucketName: string;
  logRetention: RetentionDays;
  retainLogs: boolean;
  /** Plain configuration (no secret values). */
  environment?: Record<string, string>;
}

/**
 * The QR browser-runner: an ECS cluster (Container Insights on) and one Fargate service without a
 * load balancer, one task per shard, from `Dockerfile.qr-runner` (Node 24, Debian chromium, the
 * runner's bundle). The image is an asset: synth only stages the build context; it is built and
 * pushed by `cdk deploy`.
 *
 * Network: the project has no VPC (everything else is Lambda outside one), so this builds a small
 * one with public subnets only and no NAT gateway; tasks get a public IP and a security group with
 * no ingress at all (the runner serves /health on localhost only for the container health check).
 *
 * Deployments never run two tasks at once for a shard's slot (min 0 %, max 100 %; the shard lease is
 * the real guarantee); the circuit breaker rolls a failing deployment back.
 */
export class QrRunnerService extends Construct {
  readonly vpc: Vpc;
  readonly cluster: Cluster;
  readonly taskDefinition: FargateTaskDefinition;
  readonly service: FargateService;
  readonly taskRole: Role;
  readonly logGroup: LogGroup;
  readonly size: FargateTaskSize;
  readonly shards: number;

  constructor(scope: Construct, id: string, props: QrRunnerServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.shards = props.shards;
    this.size = fargateTaskSize(props.sessionsPerTask);

    const flowLogs = new LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }],
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: FlowLogTrafficType.REJECT,
        },
      },
    });

    this.cluster = new Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
    });

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      description:
        'Runs the QR browser-runner: its command queues, its lease and status items, its bucket prefix, media writes',
    });
    this.grantRunner(props);

    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: this.size.cpu,
      memoryLimitMiB: this.size.memoryMiB,
      taskRole: this.taskRole,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    this.taskDefinition.addContainer('Runner', {
      containerName: 'qr-runner',
      image: ContainerImage.fromAsset(repoRoot, {
        file: QR_RUNNER_DOCKERFILE,
        platform: Platform.LINUX_AMD64,
      }),
      essential: true,
      stopTimeout: Duration.seconds(QR_RUNNER_STOP_TIMEOUT_SECONDS),
      logging: LogDrivers.awsLogs({ streamPrefix: 'qr-runner', logGroup: this.logGroup }),
      // QR_RUNNER_ID stays unset: the runner names itself by its ECS task id (task metadata).
      environment: {
        ...props.environment,
        AWS_REGION: stack.region,
        TABLE_NAME: props.table.tableName,
        [props.inboundQueueUrlEnv]: props.inboundQueue.queueUrl,
        QR_COMMAND_QUEUE_URLS: props.commandQueues.urlsEnv,
        QR_SESSION_BUCKET: props.sessionBucketName,
        MEDIA_BUCKET_NAME: props.mediaBucketName,
        QR_ENGINE: 'wwebjs',
        QR_SESSIONS_PER_TASK: String(props.sessionsPerTask),
        CHROMIUM_PATH: '/usr/bin/chromium',
        QR_RUNNER_HEALTH_PORT: String(QR_RUNNER_HEALTH_PORT),
        POWERTOOLS_SERVICE_NAME: 'qr-runner',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${QR_RUNNER_HEALTH_PORT}/health').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        // Chromium and the first lease take a while; a restored session more.
        startPeriod: Duration.seconds(120),
      },
    });

    const securityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'QR runner tasks: no ingress; egress to WhatsApp Web and AWS APIs over the internet',
      allowAllOutbound: true,
    });

    this.service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.shards,
      platformVersion: FargatePlatformVersion.LATEST,
      assignPublicIp: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      securityGroups: [securityGroup],
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: false,
    });

    Validations.of(this.taskDefinition.node.defaultChild as CfnTaskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds names, URLs and tunables only (table, queues, bucket, engine): no secret value; the runner needs no secret',
    });
    const executionRole = this.taskDefinition.executionRole;
    if (executionRole) {
      Validations.of(executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken of the task execution role (to pull the asset image) has no resource-level permissions; the image pull itself is on the asset repository only',
      });
    }
  }

  /**
   * The task role: consume its command queues, send to the inbound queue, its DynamoDB items only
   * (lease, membership and status: partition keys `QRSHARD#*` and `CLIENT#*`), its bucket prefix,
   * and writing customers' media into the media bucket (nothing read, listed or deleted there).
   */
  private grantRunner(props: QrRunnerServiceProps): void {
    const stack = Stack.of(this);
    props.commandQueues.grantConsume(this.taskRole);
    props.inboundQueue.grantSendMessages(this.taskRole);
    this.taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        // TransactWriteItems is authorised per item by Put/Update/ConditionCheck (the status writes).
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['QRSHARD#*', 'CLIENT#*'] } },
      }),
    );
    const bucketArn = stack.formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: props.sessionBucketName,
    });
    const objectsArn = `${bucketArn}/${QR_SESSION_PREFIX}*`;
    this.taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [objectsArn],
      }),
    );
    // Without ListBucket, S3 answers a missing snapshot with 403 instead of 404, and the store would
    // take "no session yet" for an error. No s3:prefix condition (a GetObject's implied list check
    // carries no prefix, so it would not match): the bucket holds nothing but QR sessions.
    this.taskRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucketArn] }),
    );
    Validations.of(this.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(stack, objectsArn)}]`,
      reason:
        'Snapshot objects of the QR session bucket only (qr-sessions/<tenant id>/session.zip): tenant ids are unknown in advance',
    });
    this.grantMediaWrites(props.mediaBucketName);
  }

  /**
   * PutObject only, on media keys only (`<tenant id>/media/<message id>`, media-objects.ts): the
   * runner stores what a session downloaded and never reads it back; the assistant reads it.
   */
  private grantMediaWrites(bucketName: string): void {
    const stack = Stack.of(this);
    const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: bucketName });
    const mediaArn = `${bucketArn}/*/media/*`;
    this.taskRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [mediaArn] }),
    );
    Validations.of(this.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(stack, mediaArn)}]`,
      reason:
        'Writes of media objects only (<tenant id>/media/<message id> in the media bucket): tenant and message ids are unknown in advance',
    });
  }

  /** Running tasks of the service (Container Insights). */
  runningTaskCount(): Metric {
    return new Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: this.cluster.clusterName, ServiceName: this.service.serviceName },
      statistic: 'Minimum',
      period: Duration.minutes(5),
    });
  }
}
