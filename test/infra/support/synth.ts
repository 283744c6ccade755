import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type BuildAppOptions, buildApp } from '../../../infra/cdk/build-app.ts';
import { repoRoot } from '../../../infra/cdk/paths.ts';

/** The context `cdk synth` gets from cdk.json (feature flags included), so tests synthesize the same. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface SynthOptions extends Omit<BuildAppOptions, 'context'> {
  context?: Record<string, unknown>;
  /** Run esbuild for real (slower); by default assets are staged without bundling. */
  bundle?: boolean;
}

/** Builds the app as `cdk synth` would and returns both stacks with their templates. */
export function synthApp(options: SynthOptions = {}) {
  const { context = {}, bundle = false, ...rest } = options;
  const built = buildApp({
    ...rest,
    context: {
      ...cdkJsonContext(),
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  return {
    ...built,
    stateful: { stack: built.stateful, template: Template.fromStack(built.stateful) },
    stateless: { stack: built.stateless, template: Template.fromStack(built.stateless) },
  };
}

export const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnResource);

type Json = Record<string, unknown>;

/** The resource's properties (typed loosely: the tests read what CloudFormation would). */
export function resourcesOfType(template: Template, type: string): Record<string, Json> {
  return template.findResources(type) as Record<string, Json>;
}

export function props(resource: Json): Json {
  return (resource.Properties ?? {}) as Json;
}

/** Sorted, de-duplicated actions of every policy attached to the role. */
export function roleActions(template: Template, roleLogicalId: string): string[] {
  const actions = new Set<string>();
  for (const statement of roleStatements(template, roleLogicalId)) {
    for (const action of [statement.Action].flat()) actions.add(action as string);
  }
  return [...actions].sort();
}

export function roleStatements(template: Template, roleLogicalId: string): Json[] {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) =>
      (props(policy).Roles as Json[]).some((role) => (role as { Ref?: string }).Ref === roleLogicalId),
    )
    .flatMap((policy) => (props(policy).PolicyDocument as { Statement: Json[] }).Statement);
}

/** `Fn::GetStackOutput` of the stateful stack naming the given resource (weak cross-stack reference). */
export function isStatefulReference(value: unknown, statefulLogicalId: string): boolean {
  const output = (value as { 'Fn::GetStackOutput'?: { OutputName?: string } } | undefined)?.[
    'Fn::GetStackOutput'
  ];
  return typeof output?.OutputName === 'string' && output.OutputName.includes(statefulLogicalId);
}
