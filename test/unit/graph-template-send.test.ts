import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { createGraphClient, GraphApiError } from '../../lib/whatsapp/graph-client.ts';
import { buildTemplateMessageBody, fetchApprovedTemplates } from '../../lib/whatsapp/message-templates.ts';
import { APP_SECRET, PHONE_NUMBER_ID, TOKEN } from './simulator-helpers.ts';

/**
 * Template messages on the wire (DESIGN §8): the body the Graph client sends, and the simulator's
 * Graph stand-in taking it like Meta (approved templates only, the right number of parameters).
 */

let sim: StandaloneSimulator;

beforeAll(async () => {
  sim = await startStandaloneSimulator({ appSecret: APP_SECRET });
});

afterEach(() => sim.simulator.reset());

afterAll(async () => {
  await sim.stop();
});

const client = () => createGraphClient({ baseUrl: sim.graphBaseUrl, retries: 0 });
const request = {
  phoneNumberId: PHONE_NUMBER_ID,
  accessToken: TOKEN,
  name: 'respuesta_pendiente',
  language: 'es',
  bodyParameters: [{ text: 'Abrimos a las 9.' }],
};

describe('a template send', () => {
  it("is Meta's template body, to the business-scoped user id when there is one", () => {
    expect(buildTemplateMessageBody(request, { recipient: 'ES.1349120865530274' })).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      recipient: 'ES.1349120865530274',
      type: 'template',
      template: {
        name: 'respuesta_pendiente',
        language: { code: 'es' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Abrimos a las 9.' }] }],
      },
    });
  });

  it('reaches the stand-in, which records the template, its parameters and what the customer reads', async () => {
    const { messageId } = await client().sendTemplate({ ...request, to: { wa_id: '34600111222' } });

    expect(sim.simulator.sent).toEqual([
      expect.objectContaining({
        id: messageId,
        to: '34600111222',
        text: 'Hola, te respondemos a tu mensaje: Abrimos a las 9.',
        template: { name: 'respuesta_pendiente', language: 'es', parameters: ['Abrimos a las 9.'] },
      }),
    ]);
  });

  it('of a template not approved in that language, or with the wrong parameters, is refused like Meta (132001, 132000)', async () => {
    const refused = (changes: Partial<typeof request>) =>
      client()
        .sendTemplate({ ...request, ...changes, to: { wa_id: '34600111222' } })
        .catch((error: unknown) => error);

    const pending = await refused({ name: 'oferta_semanal' });
    const wrongCount = await refused({ bodyParameters: [] });

    expect(pending).toBeInstanceOf(GraphApiError);
    expect(pending).toMatchObject({ code: 132001, kind: 'permanent' });
    expect(wrongCount).toMatchObject({ code: 132000, kind: 'permanent' });
    expect(sim.simulator.sent).toEqual([]);
  });
});

describe('the approved templates of a WABA', () => {
  it('are every approved one, pages followed, with their body parameters', async () => {
    sim.simulator.setTemplates('1234', [
      { name: 'a', language: 'es', status: 'APPROVED', category: 'UTILITY', body: '{{1}} y {{2}}' },
      { name: 'b', language: 'es', status: 'REJECTED', category: 'UTILITY', body: '{{1}}' },
      { name: 'c', language: 'en', status: 'APPROVED', category: 'MARKETING', body: 'Hi' },
    ]);
    const fetchWithSmallPages: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      if (!url.searchParams.has('after')) url.searchParams.set('limit', '1');
      return fetch(url, init);
    };

    const templates = await fetchApprovedTemplates({
      graphBaseUrl: sim.graphBaseUrl,
      graphVersion: 'v26.0',
      wabaId: '1234',
      accessToken: TOKEN,
      fetch: fetchWithSmallPages,
    });

    expect(templates.map((t) => [t.name, t.category, t.body_parameters])).toEqual([
      ['a', 'UTILITY', 2],
      ['c', 'MARKETING', 0],
    ]);
    expect(sim.simulator.graphCalls.filter((c) => c.path.endsWith('/message_templates'))).toHaveLength(3);
  });
});
