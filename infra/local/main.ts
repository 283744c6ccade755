/**
 * `npm start`: runs the whole product locally (see stack.ts) and prints where everything is.
 * Ctrl-C or SIGTERM stops every process it started.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_SERVICE_NAME ??= 'local-stack';

const { startLocalStack } = await import('./stack.ts');

const dataDir = process.env.DATA_DIR ?? '.data';
// Read before the stack fills in its defaults.
const usesGraph = process.env.GRAPH_API_BASE_URL
  ? `Graph API at ${process.env.GRAPH_API_BASE_URL}`
  : 'the built-in WhatsApp simulator (chat page above)';
// Secrets generated for this data directory are printed so they can be used; real ones given in
// the environment are not echoed.
const given = (name: string, value: string) => (process.env[name] ? '(from the environment)' : value);
const started = Date.now();
const stack = await startLocalStack({ dataDir, seedDemo: true });

const usesOpenAi = process.env.OPENAI_API_KEY
  ? `OpenAI${process.env.OPENAI_BASE_URL ? ` at ${process.env.OPENAI_BASE_URL}` : ''}`
  : 'offline FAQ responder (set OPENAI_API_KEY for OpenAI)';

console.log(`
WhatsApp assistant — local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s

  API          ${stack.url}            (health: ${stack.url}/health)
  Webhook      ${stack.url}/webhook
  Chat page    ${stack.url}/simulator     (write as a customer)
  SES inbox    ${stack.sesUrl ?? '-'}
  Data         ${dataDir}/  (DynamoDB tables and local keys survive restarts)

  Operator key      ${given('OPERATOR_API_KEY', stack.operatorKey)}
  Meta app secret   ${given('META_APP_SECRET', stack.appSecret)}
  Verify token      ${given('META_VERIFY_TOKEN', stack.verifyToken)}
  Replies go to     ${usesGraph}
  Answers from      ${usesOpenAi}
  Demo tenant       Restaurante La Plaza (phone_number_id 631261586727899, id ${stack.demoClientId ?? '-'})

Try:
  npm run simulate -- "¿Tenéis menú del día?"
  curl -H "Authorization: Bearer ${given('OPERATOR_API_KEY', stack.operatorKey)}" ${stack.url}/clients
`);

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
