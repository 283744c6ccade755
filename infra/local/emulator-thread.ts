import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { EmulatorKind, EmulatorReply } from './emulator-worker.ts';
import type { RunningEmulator } from './emulators.ts';

/**
 * Starts an in-process emulator (fauxqs for SQS and S3, or the SES emulator) on its own worker
 * thread (emulator-worker.ts): the same emulator as emulators.ts starts, bound to loopback and
 * guarded the same way, but out of the event loop that serves the webhook.
 */
export async function startEmulatorThread(kind: EmulatorKind): Promise<RunningEmulator> {
  const worker = new Worker(new URL('./emulator-worker.ts', import.meta.url), {
    workerData: { kind },
    execArgv: [],
    name: `emulator:${kind}`,
  });
  const exited = once(worker, 'exit');
  const reply = await new Promise<EmulatorReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the ${kind} emulator thread exited (${code})`)));
  });
  if (reply.type === 'failed') {
    await worker.terminate();
    throw new Error(`the ${kind} emulator did not start: ${reply.message}`);
  }
  return {
    endpoint: reply.endpoint,
    async stop() {
      worker.postMessage({ type: 'stop' });
      // A clean close lets the thread end by itself; terminate whatever is left after a second.
      const timer = setTimeout(() => void worker.terminate(), 1000);
      await exited;
      clearTimeout(timer);
    },
  };
}
