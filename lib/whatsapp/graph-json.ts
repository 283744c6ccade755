/** Reading what the Graph API answers: bodies are JSON objects, or errors that may be anything. */

/** The body as a JSON object; undefined when it is empty, not JSON, or not an object. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
