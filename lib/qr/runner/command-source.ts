import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type QrCommand, qrCommandSchema } from '../commands.ts';

/** A command taken from the queue: acknowledge it when acted on (or dropped), or let it come back. */
export interface ReceivedCommand {
  /** Undefined when the body is not a command (it is acknowledged and dropped by the runner). */
  command: QrCommand | undefined;
  ack(): Promise<void>;
  /** Makes it visible again after `seconds` (a send waiting for its session to connect). */
  retryAfter(seconds: number): Promise<void>;
}

export interface CommandSource {
  /** Waits (long poll) for commands; none once `signal` has aborted. */
  receive(signal: AbortSignal): Promise<ReceivedCommand[]>;
}

/** The command queue of one shard (SQS standard queue), long-polled. */
export class SqsCommandSource implements CommandSource {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly waitSeconds = 20,
  ) {}

  async receive(signal: AbortSignal): Promise<ReceivedCommand[]> {
    // Not aborted mid-poll: a message SQS hands to a poll nobody reads any more stays invisible for
    // its visibility timeout. A poll ends within `waitSeconds` (well inside ECS's stop timeout).
    if (signal.aborted) return [];
    const { Messages: messages } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: this.waitSeconds,
        VisibilityTimeout: 60,
      }),
    );
    return (messages ?? []).map((message) => {
      const handle = message.ReceiptHandle!;
      return {
        command: parseCommand(message.Body),
        ack: async () => {
          await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle }));
        },
        retryAfter: async (seconds: number) => {
          await this.sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: this.queueUrl,
              ReceiptHandle: handle,
              VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
            }),
          );
        },
      };
    });
  }
}

function parseCommand(body: string | undefined): QrCommand | undefined {
  try {
    const parsed = qrCommandSchema.safeParse(JSON.parse(body ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
