import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.ts';

export interface OperationalAlarmsProps {
  /** Prefix of every alarm name, e.g. `wa-assistant-prod`. */
  namePrefix: string;
  /** Subscribed to the topic when given (confirm the e-mail AWS sends). */
  email?: string | undefined;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarm topic and the alarms that notify it (on ALARM and on OK). The topic is encrypted with
 * its own customer-managed key, because CloudWatch cannot publish to a topic encrypted with the AWS
 * managed `aws/sns` key (its key policy cannot admit CloudWatch).
 */
export class OperationalAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  private readonly namePrefix: string;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the alarm notification topic',
      enableKeyRotation: true,
      // Encrypts notifications in flight only: nothing stored depends on it.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: `${props.namePrefix} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /** Any unhandled error of the function (handled 4xx/5xx responses are not errors). */
  functionErrors(fn: AppFunction): Alarm {
    return this.add(`${fn.name}-errors`, {
      metric: fn.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      description: `The ${fn.spec.entry} function failed at least once in 5 minutes (logs: ${fn.logGroup.logGroupName})`,
    });
  }

  /** Messages that exhausted their receives: each one is a customer who got no answer, or a lost job. */
  deadLetters(name: string, queue: IQueue): Alarm {
    return this.add(`${name}-dead-letters`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: 1,
      description: `Messages reached the ${name} dead-letter queue: inspect, fix, then redrive (docs/runbook.md)`,
    });
  }

  /** The oldest message has waited longer than customers should wait for an answer. */
  queueAge(name: string, queue: IQueue, maxSeconds: number): Alarm {
    return this.add(`${name}-queue-age`, {
      metric: queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: maxSeconds,
      description: `A message has waited more than ${maxSeconds} s in the ${name} queue (consumer failing, throttled or out of concurrency)`,
    });
  }

  /** A metric above a threshold for `periods` consecutive 5-minute periods. */
  above(name: string, metric: IMetric, threshold: number, description: string, periods = 1): Alarm {
    return this.add(name, { metric, threshold, description, evaluationPeriods: periods });
  }

  /**
   * A metric below a threshold for `periods` consecutive 5-minute periods; no data counts as below
   * (what is watched, e.g. running tasks, stopped reporting).
   */
  below(name: string, metric: IMetric, threshold: number, description: string, periods = 1): Alarm {
    return this.add(name, {
      metric,
      threshold,
      description,
      evaluationPeriods: periods,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  private add(
    name: string,
    options: {
      metric: IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      comparisonOperator?: ComparisonOperator;
      treatMissingData?: TreatMissingData;
    },
  ): Alarm {
    const alarm = new Alarm(this, name, {
      alarmName: `${this.namePrefix}-${name}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
