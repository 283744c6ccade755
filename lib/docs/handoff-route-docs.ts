import { handoffRequestSchema, handoffResponseSchema } from '../conversation/handoff-schemas.ts';
import type { RouteDoc } from './tenant-route-docs.ts';

/** The entries of docs/api.md for taking a chat over and giving it back (docs/handoff.md explains). */

const TAKE_OVER =
  'Takes the chat over: the bot sends nothing automatic to this customer until `until` (default: now + the tenant’s `handoff_minutes`), then answers again by itself. A message a person of the business writes meanwhile extends it, never shortens it.';
const RELEASE = 'Gives the chat back to the bot at once: it answers the customer’s next message.';
const TAKE_OVER_RESPONSES =
  '200 `{"contact","handoff":{"by","until"}}`; 400 `until` not in the future or more than 30 days ahead; 401; 403; 404 no such contact; 415 a body that is not JSON';
const RELEASE_RESPONSES = '200 `{"contact","handoff":null}`; 401; 403; 404 no such contact';

export const handoffRouteDocs: Record<string, RouteDoc> = {
  'POST /tenant/conversations/{contact}/handoff': {
    summary: `${TAKE_OVER} Listed as \`handoff: {"by":"tenant","until"}\`. The body is optional.`,
    body: handoffRequestSchema,
    response: handoffResponseSchema,
    responses: TAKE_OVER_RESPONSES,
  },
  'DELETE /tenant/conversations/{contact}/handoff': {
    summary: `${RELEASE} Whoever had the chat (a person, the customer’s request, the operator, the tenant).`,
    response: handoffResponseSchema,
    responses: RELEASE_RESPONSES,
  },
  'POST /clients/{id}/conversations/{contact}/handoff': {
    summary: `The operator’s \`POST /tenant/conversations/{contact}/handoff\` for the client (\`by: "operator"\`). ${TAKE_OVER}`,
    body: handoffRequestSchema,
    response: handoffResponseSchema,
    responses: TAKE_OVER_RESPONSES.replace('404 no such contact', '404 unknown client or contact'),
  },
  'DELETE /clients/{id}/conversations/{contact}/handoff': {
    summary: `The operator’s \`DELETE /tenant/conversations/{contact}/handoff\` for the client. ${RELEASE}`,
    response: handoffResponseSchema,
    responses: RELEASE_RESPONSES.replace('404 no such contact', '404 unknown client or contact'),
  },
};
