import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteSpec } from '../../../lib/topology.ts';

export interface HttpApiRoutesProps {
  /** Every route of the topology with the name of the function serving it. */
  routes: Array<RouteSpec & { fn: string }>;
  functions: Record<string, IFunction>;
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
  retainLogs: boolean;
}

/** Where each kind of route is authenticated, since API Gateway itself does not (APIG4). */
const authReasons: Record<RouteSpec['auth'], string> = {
  'meta-signature':
    'Meta cannot present API Gateway credentials; the webhook function checks X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the App Secret, constant time) on POST and the verify token on GET',
  'operator-key':
    'The admin-api function checks the operator bearer key (Secrets Manager, constant-time comparison) before any work; a Lambda authorizer would add latency and a second copy of the same check',
  'tenant-key':
    "The admin-api function checks the tenant's bearer API key (SHA-256 of a 190-bit secret, constant-time comparison, the key's tenant only) before any work",
  none: 'Public by design: a health check that returns no data; the invitation exchange and the web sign-in, whose token or key in the body (or session cookie) the function checks; the web pages and their static files, which hold no data until signed in',
};

/**
 * The HTTP API (API Gateway v2): one route per topology route, each integrated with its function
 * (payload format 2.0), and a `$default` stage with throttling and JSON access logs.
 *
 * CORS: none. No route is called from a browser script: Meta calls the webhook server to server, the
 * operator calls the admin API from scripts or curl, and the landing page (when it exists) is a
 * same-origin HTML page. Enabling CORS would only widen what a hostile page could attempt.
 */
export class HttpApiRoutes extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: HttpApiRoutesProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      description: 'WhatsApp assistant: Meta webhook and admin API',
      // The stage is created below, with throttling and access logs the default stage cannot take.
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Above the expected peak (≈ 1,000 tenants' webhooks plus the operator) and below what the
      // downstream (Lambda concurrency, SQS, DynamoDB on demand) and the bill can absorb. Meta retries
      // throttled (429) deliveries, so a burst is delayed, not lost.
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // The route template, never the path: paths carry tenant ids and customers' phone numbers,
        // and query strings carry Meta's verify token.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });

    const integrations = new Map<string, HttpLambdaIntegration>();
    const integrationFor = (fn: string) => {
      let integration = integrations.get(fn);
      if (!integration) {
        const handler = props.functions[fn];
        if (!handler) throw new Error(`route served by ${fn}, which is not a deployed function`);
        integration = new HttpLambdaIntegration(`${fn}Integration`, handler);
        integrations.set(fn, integration);
      }
      return integration;
    };
    for (const route of props.routes) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationFor(route.fn),
      });
      if (created) {
        Validations.of(created).acknowledge({ id: 'AwsSolutions-APIG4', reason: authReasons[route.auth] });
      }
    }

    new CfnOutput(this, 'Url', { value: this.stage.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'WebhookUrl', {
      value: `${this.stage.url}webhook`,
      description: "Callback URL for the Meta app's WhatsApp webhook",
    });
  }
}
