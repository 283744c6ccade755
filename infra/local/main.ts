import { type DemoTenant, startBanner } from './start-banner.ts';

/**
 * `npm start`: runs the whole product locally (see stack.ts) and prints where everything is
 * (start-banner.ts). Ctrl-C or SIGTERM stops every process it started.
 */

// What the user gave, before the stack fills the environment in (start-banner.ts, the imports above
// touch no environment).
const userEnv: Record<string, string | undefined> = { ...process.env };

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_SERVICE_NAME ??= 'local-stack';

const { startLocalStack } = await import('./stack.ts');

const dataDir = process.env.DATA_DIR ?? '.data';
const started = Date.now();
const stack = await startLocalStack({ dataDir, seedDemo: true, lowPriorityConsumers: true });

/** The demo tenant as the admin API shows it (what the stack created, whatever number it has). */
async function readDemoTenant(): Promise<DemoTenant | undefined> {
  if (!stack.demoClientId) return undefined;
  try {
    const response = await fetch(`${stack.url}/clients/${encodeURIComponent(stack.demoClientId)}`, {
      headers: { authorization: `Bearer ${stack.operatorKey}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) return undefined;
    const client = (await response.json()) as Record<string, unknown>;
    if (typeof client.name !== 'string' || typeof client.phone_number_id !== 'string') return undefined;
    return {
      id: stack.demoClientId,
      name: client.name,
      phone_number_id: client.phone_number_id,
      ...(typeof client.phone_number === 'string' ? { phone_number: client.phone_number } : {}),
      ...(typeof client.landing_url === 'string' ? { landing_url: client.landing_url } : {}),
    };
  } catch {
    return undefined;
  }
}

const demo = await readDemoTenant();
console.log(
  startBanner({
    url: stack.url,
    dataDir,
    startedMs: started,
    secrets: {
      OPERATOR_API_KEY: stack.operatorKey,
      META_APP_SECRET: stack.appSecret,
      META_VERIFY_TOKEN: stack.verifyToken,
    },
    userEnv,
    simulator: stack.simulator !== undefined,
    ...(stack.sesUrl ? { sesUrl: stack.sesUrl } : {}),
    ...(demo ? { demo } : stack.demoClientId ? { demoClientId: stack.demoClientId } : {}),
  }),
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
