import type { Responder, ResponderReply } from './ports.ts';

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
        // Not configured is not a failure: the fallback is simply this tenant's responder.
        if (fieldOf(error, 'notConfigured') === true) return fallback.reply(request);
        return { ...(await fallback.reply(request)), ...leftByFailedPrimary(error) };
      }
    },
  };
}

/**
 * What a failed primary leaves to the reply: why it failed (logs, the fallback metric), the
 * conversation it created (still the contact's: the purge can only delete conversations whose id
 * was stored), and the tokens it was billed for before failing.
 */
function leftByFailedPrimary(
  error: unknown,
): Pick<ResponderReply, 'fallbackReason' | 'conversationId' | 'usage'> {
  const reason = fieldOf(error, 'reason');
  const conversationId = fieldOf(error, 'conversationId');
  const usage = fieldOf(error, 'usage') as ResponderReply['usage'] | undefined;
  return {
    fallbackReason: reason !== undefined ? String(reason) : error instanceof Error ? error.name : 'unknown',
    ...(typeof conversationId === 'string' ? { conversationId } : {}),
    ...(usage && typeof usage.inputTokens === 'number' && typeof usage.outputTokens === 'number'
      ? { usage }
      : {}),
  };
}

/** A field of whatever was thrown (errors of any adapter, or not errors at all). */
function fieldOf(error: unknown, field: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[field] : undefined;
}
