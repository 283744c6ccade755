/**
 * What `npm start` prints once the local stack is up (main.ts): where to write as a customer, the
 * keys to call the API with, where the e-mail inbox is. Keys the stack generated are printed so a
 * newcomer can use them; values the user gave in the environment are not echoed. Which names the
 * user gave must be read before the stack starts: it fills process.env itself.
 */

/** The names whose values are secrets: printed when generated, hidden when the user gave them. */
export const SECRET_NAMES = ['OPERATOR_API_KEY', 'META_APP_SECRET', 'META_VERIFY_TOKEN'] as const;
type SecretName = (typeof SECRET_NAMES)[number];

/** The demo tenant as the admin API returns it. */
export interface DemoTenant {
  id: string;
  name: string;
  phone_number?: string;
  phone_number_id: string;
  /** Its landing page (GET /clients/{id} `landing_url`). */
  landing_url?: string;
}

export interface StartBannerInput {
  url: string;
  dataDir: string;
  startedMs: number;
  /** The values in use (generated or given). */
  secrets: Record<SecretName, string>;
  /** The environment as the user gave it, before the stack filled it in. */
  userEnv: Record<string, string | undefined>;
  /** Whether the built-in simulator (and its chat page) runs. */
  simulator: boolean;
  sesUrl?: string;
  /** The demo tenant, when the stack has one. */
  demo?: DemoTenant;
  /** The demo tenant's id when the stack has one but its details could not be read. */
  demoClientId?: string;
}

function given(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function startBanner(input: StartBannerInput): string {
  const { url, dataDir, userEnv } = input;
  const secret = (name: SecretName) =>
    given(userEnv, name) ? '(from the environment; not shown)' : input.secrets[name];
  const keyForCurl = given(userEnv, 'OPERATOR_API_KEY')
    ? '$OPERATOR_API_KEY'
    : input.secrets.OPERATOR_API_KEY;
  const generated = SECRET_NAMES.filter((name) => !given(userEnv, name));
  const graph = given(userEnv, 'GRAPH_API_BASE_URL');
  const openAi = given(userEnv, 'OPENAI_API_KEY');
  const openAiBase = given(userEnv, 'OPENAI_BASE_URL');
  const allowedHosts = given(userEnv, 'LOCAL_ALLOWED_HOSTS');

  const chatPage = input.simulator
    ? `${url}/simulator   (open it in a browser, pick a business and write)`
    : '-  (off: GRAPH_API_BASE_URL is a real Graph server, whose App Secret must not sign test messages)';
  const [demoFirst, ...demoMore] = describeDemo(input);
  const lines = [
    '',
    `WhatsApp assistant — local stack ready in ${((Date.now() - input.startedMs) / 1000).toFixed(1)} s`,
    '',
    'Write as a customer',
    `  Chat page      ${chatPage}`,
    ...(input.simulator ? ['  Terminal       npm run simulate -- "¿Tenéis menú del día?"'] : []),
    `  Demo tenant    ${demoFirst}`,
    ...demoMore,
    '',
    'Call the API (README: create your own tenant with one POST /clients)',
    `  API            ${url}   (health: ${url}/health)`,
    `  Operator key   ${secret('OPERATOR_API_KEY')}`,
    `  Try            curl -H "Authorization: Bearer ${keyForCurl}" ${url}/clients`,
    '',
    'Web pages',
    `  Console        ${url}/console   (sign in with the operator key)`,
    ...(input.demo?.landing_url
      ? [`  Demo's page    ${input.demo.landing_url}   (a tenant's landing page)`]
      : []),
    `  API docs       ${url}/docs   (try the routes; OpenAPI at ${url}/openapi.json)`,
    '',
    'Webhook (for Meta, through a tunnel named in LOCAL_ALLOWED_HOSTS)',
    `  Webhook        ${url}/webhook`,
    `  App secret     ${secret('META_APP_SECRET')}`,
    `  Verify token   ${secret('META_VERIFY_TOKEN')}`,
    '',
    `E-mail inbox     ${input.sesUrl ? `${input.sesUrl}   (SES local: every e-mail the stack sends lands here)` : '-'}`,
    `Replies go to    ${graph ? `Graph API at ${graph}` : 'the built-in WhatsApp simulator (chat page above)'}`,
    `Answers from     ${openAi ? `OpenAI${openAiBase ? ` at ${openAiBase}` : ''}` : 'offline FAQ responder (set OPENAI_API_KEY for OpenAI)'}`,
    `Data             ${dataDir}/  (DynamoDB tables and the generated keys survive restarts)`,
    ...(generated.length
      ? [
          `                 generated keys: ${generated.join(', ')} (set them in the environment to use your own)`,
        ]
      : []),
    `Listens on       127.0.0.1 only; answers Host 127.0.0.1, localhost, [::1]${allowedHosts ? `, ${allowedHosts}` : ''} (LOCAL_ALLOWED_HOSTS adds names)`,
    '',
  ];
  return lines.join('\n');
}

/** The demo tenant's lines: its name, its (fake) number, how to start without it. */
function describeDemo(input: StartBannerInput): string[] {
  const { demo } = input;
  const indent = '                 ';
  if (demo) {
    const number = demo.phone_number
      ? `${demo.phone_number} (phone_number_id ${demo.phone_number_id})`
      : `phone_number_id ${demo.phone_number_id}`;
    return [
      `${demo.name}, id ${demo.id}`,
      `${indent}${number}: a fake number, only the simulator writes to it`,
      `${indent}DEMO_TENANT=off starts without it`,
    ];
  }
  if (input.demoClientId) return [`id ${input.demoClientId}`];
  const setting = given(input.userEnv, 'DEMO_TENANT');
  return [setting ? `none (DEMO_TENANT=${setting})` : 'none'];
}
