import { parseArgs } from 'node:util';
import { readSimulatorToken, SIMULATOR_TOKEN_HEADER, simulatorTokenPath } from './simulator-token.ts';

/**
 * `npm run simulate -- "¿A qué hora abrís?" [--from 34600111222] [--name Lucía]
 *   [--phone-number-id <id>] [--url http://127.0.0.1:3000] [--timeout 30]`
 *
 * Writes one message as a customer through the running local stack's WhatsApp simulator (signed
 * webhook delivery, like Meta) and prints the bot's reply once it has been sent through the Graph
 * API stand-in. Exit code 1 when the stack is not running, the message is rejected, or no reply comes.
 * The simulator's API takes this run's token, which the stack writes to DATA_DIR (default `.data`).
 * Without --phone-number-id it writes to the oldest active tenant (the demo tenant, when there is one).
 */

const SETTLE_MS = 1500;
const POLL_MS = 500;

interface ConversationItem {
  seq: number;
  direction: 'in' | 'out';
  id: string;
  text: string;
}

class CliError extends Error {}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string', default: '34600111222' },
      name: { type: 'string' },
      'phone-number-id': { type: 'string' },
      url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 3000}` },
      timeout: { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const text = positionals.join(' ').trim();
  if (values.help || !text) {
    console.log(
      'Usage: npm run simulate -- "your message" [--from 34600111222] [--name Lucía]\n' +
        '         [--phone-number-id <id>] [--url http://127.0.0.1:3000] [--timeout 30]\n' +
        'Without --phone-number-id it writes to the oldest active tenant (the demo tenant, if any).',
    );
    process.exitCode = values.help ? 0 : 1;
    return;
  }
  const baseUrl = values.url.replace(/\/+$/, '');
  const timeoutMs = Math.max(1, Number(values.timeout) || 30) * 1000;
  const from = values.from.replace(/[^0-9]/g, '');
  const dataDir = process.env.DATA_DIR ?? '.data';
  const token = readSimulatorToken(dataDir);
  if (!token) {
    throw new CliError(
      `No simulator token at ${simulatorTokenPath(dataDir)}: start the local stack with \`npm start\` ` +
        '(with the same DATA_DIR), or it serves no simulator (GRAPH_API_BASE_URL is a real Graph server).',
    );
  }
  const authorized = { [SIMULATOR_TOKEN_HEADER]: token };
  const phoneNumberId = values['phone-number-id'] ?? (await oldestTenant(baseUrl, authorized));

  const posted = await request(baseUrl, '/simulator/api/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authorized },
    body: JSON.stringify({
      phone_number_id: phoneNumberId,
      from,
      text,
      ...(values.name ? { name: values.name } : {}),
    }),
  });
  const messageId = String(posted.message_id);
  const webhookStatus = Number(posted.webhook_status);
  if (webhookStatus !== 200) {
    throw new CliError(
      `The webhook answered HTTP ${webhookStatus} (expected 200). ` +
        (webhookStatus === 401 || webhookStatus === 403
          ? 'The signature was rejected: does META_APP_SECRET match between the stack and its simulator?'
          : 'Check the local stack output.'),
    );
  }
  console.log(`→ sent ${messageId} to ${phoneNumberId} as ${from}; waiting for the reply…`);

  const query = `?phone_number_id=${encodeURIComponent(phoneNumberId)}&contact=${encodeURIComponent(from)}`;
  const deadline = Date.now() + timeoutMs;
  let replies: ConversationItem[] = [];
  let lastChange = 0;
  while (Date.now() < deadline) {
    const data = await request(baseUrl, `/simulator/api/conversation${query}`, { headers: authorized });
    const messages = (Array.isArray(data.messages) ? data.messages : []) as ConversationItem[];
    const mine = messages.find((m) => m.direction === 'in' && m.id === messageId);
    // Replies: the bot's messages after ours, up to the customer's next message (another terminal).
    const after = mine ? messages.filter((m) => m.seq > mine.seq) : [];
    const nextInbound = after.find((m) => m.direction === 'in');
    const current = after.filter((m) => m.direction === 'out' && (!nextInbound || m.seq < nextInbound.seq));
    if (current.length !== replies.length) {
      replies = current;
      lastChange = Date.now();
    }
    // A long answer arrives in several parts: print once no new part came for a moment.
    if (replies.length > 0 && Date.now() - lastChange >= SETTLE_MS) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (replies.length === 0) {
    throw new CliError(`No reply within ${timeoutMs / 1000} s. Check the local stack output.`);
  }
  for (const reply of replies) console.log(`← ${reply.text}`);
}

/** The phone_number_id of the oldest active tenant, as the chat page lists them. */
async function oldestTenant(baseUrl: string, headers: Record<string, string>): Promise<string> {
  const data = await request(baseUrl, '/simulator/api/businesses', { headers });
  const businesses = (Array.isArray(data.businesses) ? data.businesses : []) as Array<{
    phone_number_id: string;
    name: string;
  }>;
  const first = businesses[0];
  if (!first) {
    throw new CliError(
      'The local stack has no active tenant to write to: create one (README, "Create your own tenant") ' +
        'or pass --phone-number-id.',
    );
  }
  console.log(`→ writing to ${first.name} (phone_number_id ${first.phone_number_id})`);
  return String(first.phone_number_id);
}

async function request(baseUrl: string, path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
  } catch {
    throw new CliError(
      `The local stack is not running at ${baseUrl}. Start it with \`npm start\` (or pass --url).`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 401) {
    throw new CliError(
      `${baseUrl} refused the simulator token: is it the stack that runs on this DATA_DIR? (restart it, or pass --url)`,
    );
  }
  if (response.status === 404) {
    throw new CliError(
      `${baseUrl} answered 404 for ${path}: is it the local stack with its WhatsApp simulator?`,
    );
  }
  if (!response.ok) {
    const reason = typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
    throw new CliError(`The simulator rejected the request: ${reason}`);
  }
  return body;
}

main().catch((error: unknown) => {
  console.error(error instanceof CliError ? error.message : error);
  process.exitCode = 1;
});
