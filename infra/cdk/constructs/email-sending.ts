import { Stack } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Grant } from 'aws-cdk-lib/aws-iam';
import {
  ConfigurationSet,
  ConfigurationSetTlsPolicy,
  EmailIdentity,
  Identity,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export interface EmailSendingProps {
  /** A domain (`example.com`, verified by DKIM records) or a single address (verified by a link). */
  identity: string | undefined;
}

/**
 * SES for the e-mails the product sends (tenant invitations): one configuration set (TLS required,
 * bounces and complaints suppressed, reputation metrics on) and, when the operator names one, the
 * verified identity. Sending stays in the SES sandbox until the operator requests production access.
 */
export class EmailSending extends Construct {
  readonly configurationSet: ConfigurationSet;
  readonly identity: EmailIdentity | undefined;
  /** The domain or address given as `sesIdentity`. */
  readonly identityName: string | undefined;

  constructor(scope: Construct, id: string, props: EmailSendingProps) {
    super(scope, id);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.identityName = props.identity;
    this.identity = props.identity
      ? new EmailIdentity(this, 'Identity', {
          identity: props.identity.includes('@')
            ? Identity.email(props.identity)
            : Identity.domain(props.identity),
          configurationSet: this.configurationSet,
        })
      : undefined;
  }

  /** `ses:SendEmail` from this identity through this configuration set, nothing else. */
  grantSend(grantee: IGrantable): Grant {
    if (!this.identity) {
      throw new Error('a function sends e-mail but no SES identity is configured: pass -c sesIdentity=…');
    }
    const configurationSetArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
    return Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail'],
      resourceArns: [this.identity.emailIdentityArn, configurationSetArn],
    });
  }
}
