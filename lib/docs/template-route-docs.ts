import { templatesQuerySchema, templatesResponseSchema } from '../templates/template-schemas.ts';
import type { RouteDoc } from './tenant-route-docs.ts';

/** The entries of docs/api.md for the message templates (the 24-hour window's `window_template`). */

const RESPONSES =
  '200 `{"waba_id","templates":[{"name","language","status","category","body_parameters"}],"fetched_at","cached","window_template"}`; 400 bad query; 401; 403; 409 no `waba_id` set, no WhatsApp token, Meta refused the token (190), the WABA id is wrong or not visible to the token (100), or the token lacks `whatsapp_business_management`; 502 the Graph API failed or did not answer (with the reason)';

export const templateRouteDocs: Record<string, RouteDoc> = {
  'GET /tenant/templates': {
    summary:
      "The approved message templates of the tenant's WhatsApp Business Account (`waba_id`), read with the token it sends with (`GET /{waba-id}/message_templates`, every page) and cached for 5 minutes. Outside the 24-hour customer service window a reply goes out as the tenant's `window_template`, which must be one of these (PATCH checks it).",
    query: templatesQuerySchema,
    response: templatesResponseSchema,
    responses: RESPONSES,
  },
  'GET /clients/{id}/templates': {
    summary: "The operator's view of a client's approved templates (as `GET /tenant/templates`).",
    query: templatesQuerySchema,
    response: templatesResponseSchema,
    responses: RESPONSES.replace('403; ', '404; '),
  },
};
