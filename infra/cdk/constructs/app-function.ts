import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { Charset, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../../lib/observability/metric-catalog.ts';
import type { FunctionSpec } from '../../../lib/topology.ts';
import { bundleSettings, functionEntry } from '../bundle-settings.ts';
import { repoRoot } from '../paths.ts';

export interface AppFunctionProps {
  /** The topology name (`webhook`, `adminApi`, …). */
  name: string;
  spec: FunctionSpec;
  /** Names, ARNs and URLs only: never a secret value (tests check it). */
  environment: Record<string, string>;
  logRetention: RetentionDays;
  retainLogs: boolean;
}

/**
 * One Lambda function of the topology with the project's fixed defaults: Node 24 on arm64, an ESM
 * bundle built by the local esbuild (minified, source maps, names kept, the AWS SDK bundled at the
 * version the tests ran), its own log group with retention, X-Ray tracing and the Powertools service
 * name. Its role starts with nothing but writing to that log group (no AWS managed policy); every
 * other permission comes from a `grant*` helper in the stack, driven by the topology.
 */
export class AppFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly name: string;
  readonly spec: FunctionSpec;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.name = props.name;
    this.spec = spec;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${spec.entry} function`,
    });
    this.logGroup.grantWrite(this.role);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords), which has no resource-level permissions; test/infra pins every other action to named resources',
    });

    this.fn = new NodejsFunction(this, 'Function', {
      entry: functionEntry(spec.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: join(repoRoot, 'package-lock.json'),
      description: spec.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: spec.entry,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Stack traces point at the TypeScript sources through the bundled source map.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: bundleSettings.target,
        minify: bundleSettings.minify,
        sourceMap: bundleSettings.sourceMap,
        sourcesContent: false,
        keepNames: bundleSettings.keepNames,
        charset: Charset.UTF8,
        mainFields: [...bundleSettings.mainFields],
        banner: bundleSettings.banner,
        // Bundle the SDK too: the versions in package-lock.json are the ones the tests ran.
        bundleAwsSDK: true,
        externalModules: [],
        // Credentials come from the environment in Lambda: no SSO/INI/STS providers in the bundle.
        esbuildArgs: Object.fromEntries(
          Object.entries(bundleSettings.alias).map(([from, to]) => [`--alias:${from}`, to]),
        ),
      },
    });
  }
}
