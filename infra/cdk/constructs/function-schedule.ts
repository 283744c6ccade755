import { Duration, Stack } from 'aws-cdk-lib';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type IScheduleTarget, Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { ScheduleTargetBase, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Invokes one function and nothing else: `lambda:InvokeFunction` on that function's ARN (the stock
 * `LambdaInvoke` target also grants every version and alias of it, `arn:*`).
 */
class InvokeFunctionOnly extends ScheduleTargetBase implements IScheduleTarget {
  constructor(
    private readonly fn: IFunction,
    props: ScheduleTargetBaseProps,
  ) {
    super(props, fn.functionArn);
  }

  protected addTargetActionToRole(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.fn.functionArn] }),
    );
  }
}

export interface FunctionScheduleProps {
  fn: IFunction;
  /** `rate(1 day)`, `cron(0 3 * * ? *)`, … (EventBridge Scheduler syntax), from the topology. */
  expression: string;
  description: string;
  /** Invocations Scheduler could not deliver after its retries land here (alarmed). */
  deadLetterQueue: IQueue;
}

/** An EventBridge Scheduler schedule that invokes one function, with its own least-privilege role. */
export class FunctionSchedule extends Construct {
  readonly schedule: Schedule;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: FunctionScheduleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new Role(this, 'Role', {
      description: `EventBridge Scheduler: ${props.description}`,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: props.description,
      schedule: ScheduleExpression.expression(props.expression),
      target: new InvokeFunctionOnly(props.fn, {
        role: this.role,
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}
