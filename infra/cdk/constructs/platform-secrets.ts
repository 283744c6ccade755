import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { PlatformSecret } from '../../../lib/topology.ts';

/**
 * How each platform secret is born. Values never pass through the CDK or the template:
 * - `generated`: Secrets Manager generates a random value at creation, usable at once (the operator
 *   reads it back: the operator key, and the verify token to paste into Meta's webhook form);
 * - `operator`: created without a value; the operator stores Meta's or OpenAI's value with
 *   `aws secretsmanager put-secret-value` (docs/deploy.md).
 */
export const platformSecretOrigins: Record<PlatformSecret, 'generated' | 'operator'> = {
  META_APP_SECRET: 'operator',
  META_VERIFY_TOKEN: 'generated',
  WHATSAPP_ACCESS_TOKEN: 'operator',
  OPENAI_API_KEY: 'operator',
  OPERATOR_API_KEY: 'generated',
};

const descriptions: Record<PlatformSecret, string> = {
  META_APP_SECRET: "Meta app's App Secret: verifies X-Hub-Signature-256 of every webhook POST",
  META_VERIFY_TOKEN: "Token Meta echoes in the webhook verification GET (paste it into the Meta app's form)",
  WHATSAPP_ACCESS_TOKEN: 'Platform WhatsApp Cloud API token (system user), for tenants without their own',
  OPENAI_API_KEY: 'Platform OpenAI API key, for tenants without their own',
  OPERATOR_API_KEY: "Operator's bearer key for the admin API (/clients)",
};

/** Why none of them has a Secrets Manager rotation schedule (cdk-nag AwsSolutions-SMG4). */
const rotationReasons: Record<PlatformSecret, string> = {
  META_APP_SECRET:
    'Issued by Meta (App settings > Reset App Secret): no rotation Lambda can mint it; the operator resets it at Meta and stores it (docs/deploy.md, Rotating secrets)',
  META_VERIFY_TOKEN:
    "Must equal the token typed into Meta's webhook form, so it changes by hand in step with that form (docs/deploy.md, Rotating secrets)",
  WHATSAPP_ACCESS_TOKEN:
    'Issued by Meta (a system-user token in Business Manager): the operator generates a new one there and stores it (docs/deploy.md, Rotating secrets)',
  OPENAI_API_KEY:
    'Issued by OpenAI (dashboard API keys): the operator creates a new key there, stores it, then revokes the old one (docs/deploy.md, Rotating secrets)',
  OPERATOR_API_KEY:
    "Held by the operator's scripts outside AWS, so it changes by hand in step with them (docs/deploy.md, Rotating secrets)",
};

export interface PlatformSecretsProps {
  /** Prefix of the secret names, e.g. `wa-assistant/prod`. */
  namePrefix: string;
  retain: boolean;
}

/** The five platform secrets in Secrets Manager, named `<prefix>/<NAME>`. */
export class PlatformSecrets extends Construct {
  readonly secrets: Record<PlatformSecret, Secret>;

  constructor(scope: Construct, id: string, props: PlatformSecretsProps) {
    super(scope, id);
    const create = (name: PlatformSecret): Secret => {
      const secret = new Secret(this, name, {
        secretName: `${props.namePrefix}/${name}`,
        description: descriptions[name],
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        // Letters and digits only: these values travel in headers and query strings.
        generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      });
      if (platformSecretOrigins[name] === 'operator') {
        // CloudFormation creates a secret without a value when neither SecretString nor
        // GenerateSecretString is given; the CDK always adds the latter, so take it out.
        (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
      }
      Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: rotationReasons[name] });
      return secret;
    };
    this.secrets = {
      META_APP_SECRET: create('META_APP_SECRET'),
      META_VERIFY_TOKEN: create('META_VERIFY_TOKEN'),
      WHATSAPP_ACCESS_TOKEN: create('WHATSAPP_ACCESS_TOKEN'),
      OPENAI_API_KEY: create('OPENAI_API_KEY'),
      OPERATOR_API_KEY: create('OPERATOR_API_KEY'),
    };
  }
}
