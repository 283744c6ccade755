import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../lib/topology.ts';
import { resourcesOfType, synthApp } from './support/synth.ts';

/**
 * cdk-nag 3 is a CDK validation plugin: it reports violations (errors and warnings) instead of
 * annotations, and any violation not acknowledged with a reason fails `cdk synth`. These tests run
 * the same AWS Solutions pack directly on each stage's construct tree.
 */
describe.each([
  { stage: 'prod', context: { stage: 'prod', sesIdentity: 'example.com', alarmEmail: 'ops@example.com' } },
  { stage: 'dev', context: { stage: 'dev' } },
])('cdk-nag AWS Solutions checks, $stage stage', ({ context }) => {
  let app: ReturnType<typeof synthApp>;

  beforeAll(() => {
    // Given the stage synthesized once (which itself fails on an unacknowledged violation)
    app = synthApp({ context });
  });

  it('reports no violation that is not acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(app.app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('leaves no error annotation on either stack', () => {
    for (const stack of [app.stateful.stack, app.stateless.stack]) {
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    }
  });

  it('records every acknowledgment in the template with a specific reason', () => {
    for (const { template } of [app.stateful, app.stateless]) {
      for (const resource of Object.values(
        template.toJSON().Resources as Record<
          string,
          { Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }
        >,
      )) {
        for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          // Ours, and the one the CDK itself writes on every resource of a stack whose VPC reads
          // the stack's availability zones or has a flow log (the QR runner's): cfn-lint's W3010, F3002/F3003.
          expect(rule.id).toMatch(/^(AwsSolutions-|CloudFormation-Validate::(W3010|F3002|F3003)$)/);
          expect(rule.reason.length, rule.id).toBeGreaterThan(40);
        }
      }
    }
  });

  it("acknowledges the missing API Gateway authorizer on every route with that route's own check", () => {
    const routes = Object.values(
      resourcesOfType(app.stateless.template, 'AWS::ApiGatewayV2::Route') as Record<
        string,
        {
          Properties: { RouteKey: string };
          Metadata: { cdk_nag: { rules_to_suppress: Array<{ id: string; reason: string }> } };
        }
      >,
    );
    for (const route of allRoutes()) {
      const deployed = routes.find((r) => r.Properties.RouteKey === `${route.method} ${route.path}`)!;
      const reason = deployed.Metadata.cdk_nag.rules_to_suppress.find(
        (r) => r.id === 'AwsSolutions-APIG4',
      )!.reason;
      const expected = {
        'meta-signature': /X-Hub-Signature-256/,
        'operator-key': /operator bearer key/,
        'tenant-key': /tenant's bearer API key/,
        none: /health check|invitation exchange/,
      };
      expect(reason).toMatch(expected[route.auth]);
    }
  });
});
