/**
 * One in-process emulator (fauxqs, or aws-ses-v2-local) on a thread of its own, so its work never
 * delays the webhook's event loop. Started by emulator-thread.ts; answers `{ endpoint }` once
 * listening and stops on `stop`. Only node: modules are imported statically (Node's type stripping
 * loads this file; tsx is registered before the project's modules).
 */
import { parentPort, workerData } from 'node:worker_threads';

export type EmulatorKind = 'sqs-s3' | 'ses';
export type EmulatorReply = { type: 'listening'; endpoint: string } | { type: 'failed'; message: string };

const kind = (workerData as { kind: EmulatorKind }).kind;
const port = parentPort!;

try {
  const { register } = await import('tsx/esm/api');
  register();
  const { startSes, startSqsAndS3 } = await import('./emulators.ts');
  const emulator = kind === 'ses' ? await startSes() : await startSqsAndS3();
  port.on('message', async (message: { type: string }) => {
    if (message.type !== 'stop') return;
    await emulator.stop().catch(() => undefined);
    port.close();
  });
  port.postMessage({ type: 'listening', endpoint: emulator.endpoint } satisfies EmulatorReply);
} catch (error) {
  port.postMessage({ type: 'failed', message: String(error) } satisfies EmulatorReply);
}
