import { isUnder, messageOf, requestUrl, sendJson } from './http.ts';
import type { SimulatorPart } from './types.ts';

/**
 * Composes the simulator's parts: each request goes to the first part that takes it. A part that
 * throws answers 500 (the host server's other routes are not disturbed). A new capability of the
 * simulator (playing the phone in QR mode, Graph's read endpoints) is one more part in the list.
 */
export function composeParts(parts: SimulatorPart[]): SimulatorPart {
  return async (req, res) => {
    try {
      for (const part of parts) if (await part(req, res)) return true;
      return false;
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: 'simulator_error', message: messageOf(error) });
      else res.end();
      return true;
    }
  };
}

/** Answers 404 for whatever no earlier part took below `prefix`, so the host server never sees it. */
export function notFoundUnder(prefix: string): SimulatorPart {
  return async (req, res) => {
    if (!isUnder(requestUrl(req).pathname, prefix)) return false;
    sendJson(res, 404, { error: 'not_found', message: 'not found' });
    return true;
  };
}
