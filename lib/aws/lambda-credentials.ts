import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias set in
 * infra/cdk/constructs/app-function.ts). Lambda gives a function its execution role's credentials in
 * environment variables, so the default chain's SSO, INI, process, web-identity and instance-metadata
 * providers (and the nested STS/SSO clients they bring) are never used there: leaving them out takes
 * about a quarter off every bundle and off its import time. Local runs keep the SDK's default chain.
 */
export const defaultProvider = (_init?: unknown) => fromEnv();
