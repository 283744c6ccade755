import { join } from 'node:path';
import { repoRoot } from './paths.ts';

/**
 * How every function is bundled: read by the CDK construct (infra/cdk/constructs/app-function.ts)
 * and by the benchmark that reports each bundle's size and import time (bench/bundles.ts), so the
 * figures are those of what is deployed.
 */
export const bundleSettings = {
  format: 'esm',
  target: 'node24',
  minify: true,
  sourceMap: true,
  keepNames: true,
  mainFields: ['module', 'main'],
  /** ESM bundles that include the AWS SDK call `require` (CommonJS dependencies): give them one. */
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  /**
   * Lambda gives credentials in environment variables: the SDK's default chain (SSO, INI, STS…) is
   * replaced by the environment provider alone (lib/aws/lambda-credentials.ts).
   */
  alias: {
    '@aws-sdk/credential-provider-node': join(repoRoot, 'lib', 'aws', 'lambda-credentials.ts'),
  } as Record<string, string>,
} as const;

/** The entry file of a topology function. */
export const functionEntry = (entry: string) => join(repoRoot, 'functions', `${entry}.ts`);
