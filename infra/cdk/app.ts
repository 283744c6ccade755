import { buildApp } from './build-app.ts';

// `cdk synth` / `cdk deploy` entry (cdk.json): context comes from cdk.json and `-c name=value`.
buildApp().app.synth();
