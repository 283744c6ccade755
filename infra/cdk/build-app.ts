import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type FunctionSpec, functions, type QueueSpec, queues } from '../../lib/topology.ts';
import { readSettings } from './settings.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export interface BuildAppOptions extends AppProps {
  /** Defaults to lib/topology.ts; tests pass a grown topology to prove nothing else must change. */
  topology?: { functions: Record<string, FunctionSpec>; queues: Record<string, QueueSpec> };
}

/**
 * The CDK app: a stateful and a stateless stack per stage (`-c stage=prod|dev`), built from the
 * topology, with cdk-nag's AWS Solutions checks as a validation plugin (a violation that is not
 * acknowledged with a reason fails the synth).
 */
export function buildApp(options: BuildAppOptions = {}) {
  const { topology = { functions, queues }, ...appProps } = options;
  const app = new App(appProps);
  const settings = readSettings(app);
  const stackPrefix = `WaAssistant-${settings.stage === 'prod' ? 'Prod' : 'Dev'}`;

  const stateful = new StatefulStack(app, `${stackPrefix}-Stateful`, {
    settings,
    queues: topology.queues,
    namePrefix: `wa-assistant/${settings.stage}`,
  });
  const stateless = new StatelessStack(app, `${stackPrefix}-Stateless`, {
    settings,
    stateful,
    functions: topology.functions,
    namePrefix: `wa-assistant-${settings.stage}`,
  });

  for (const stack of [stateful, stateless]) {
    Tags.of(stack).add('app', 'wa-assistant');
    Tags.of(stack).add('stage', settings.stage);
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return { app, settings, stateful, stateless };
}
