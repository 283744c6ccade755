import type { Responder } from './ports.ts';

/**
 * Tries the primary responder (OpenAI) and, when it fails after its own retries or is not
 * configured, answers with the fallback (the offline FAQ responder). The customer always gets a
 * grounded answer or a polite decline.
 */
export function withFallback(primary: Responder | undefined, fallback: Responder): Responder {
  if (!primary) return fallback;
  return {
    async reply(request) {
      try {
        return await primary.reply(request);
      } catch (error) {
        const reason =
          (error as { reason?: unknown }).reason !== undefined
            ? String((error as { reason?: unknown }).reason)
            : error instanceof Error
              ? error.name
              : 'unknown';
        // A conversation the primary created before failing is still the contact's: keep its id.
        const conversationId = (error as { conversationId?: unknown }).conversationId;
        return {
          ...(await fallback.reply(request)),
          fallbackReason: reason,
          ...(typeof conversationId === 'string' ? { conversationId } : {}),
        };
      }
    },
  };
}
