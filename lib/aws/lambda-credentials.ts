import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the function bundles (an esbuild alias in
 * infra/cdk/bundle-settings.ts, used by the CDK and by the local stack's isolates alike). Lambda gives a function its execution role's credentials in
 * environment variables, so the default chain's SSO, INI, process, web-identity and instance-metadata
 * providers (and the nested STS/SSO clients they bring) are never used there: leaving them out takes
 * about a quarter off every bundle and off its import time. Locally the stack gives its isolates
 * credentials in the environment too.
 */
export const defaultProvider = (_init?: unknown) => fromEnv();
