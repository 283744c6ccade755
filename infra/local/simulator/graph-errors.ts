import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The Graph API's error shape (`{ error: { message, type, code, error_subcode, fbtrace_id } }`). */

export class GraphRequestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
    readonly subcode?: number,
    readonly type = 'OAuthException',
  ) {
    super(message);
  }
}

/** Meta's error 100 on a bad parameter or body. */
export function invalidParameter(details: string): GraphRequestError {
  return new GraphRequestError(400, 100, `(#100) ${details}`);
}

/** Meta's error 2500 on a path it does not know. */
export function unknownPath(): GraphRequestError {
  return new GraphRequestError(400, 2500, 'Unknown path components');
}

/** Meta's answer to a GET of an object id it does not have. */
export function unknownObject(objectId: string): GraphRequestError {
  return new GraphRequestError(
    400,
    100,
    `Unsupported get request. Object with ID '${objectId}' does not exist`,
    33,
    'GraphMethodException',
  );
}

export function graphErrorBody(
  code: number,
  message: string,
  subcode?: number,
  type = 'OAuthException',
): unknown {
  const error: Record<string, unknown> = { message, type, code };
  if (subcode !== undefined) error.error_subcode = subcode;
  error.error_data = { messaging_product: 'whatsapp', details: message };
  error.fbtrace_id = `SIM${randomBytes(8).toString('base64url')}`;
  return { error };
}

export function defaultFaultMessage(code: number): string {
  switch (code) {
    case 130429:
      return '(#130429) Rate limit hit';
    case 131056:
      return '(#131056) (Business Account, Consumer Account) pair rate limit hit';
    case 131047:
      return '(#131047) Re-engagement message';
    case 131048:
      return '(#131048) Spam rate limit hit';
    case 190:
      return 'Error validating access token: Session has expired.';
    default:
      return `(#${code}) Simulated error`;
  }
}

/** The bearer token's last 4 characters, or Meta's 190 when there is none. */
export function bearerTokenSuffix(req: IncomingMessage): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  if (!token) {
    throw new GraphRequestError(
      401,
      190,
      'An active access token must be used to query information about the current user.',
    );
  }
  return token.slice(-4);
}
