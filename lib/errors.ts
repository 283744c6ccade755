/**
 * The few typed errors of the product and the one place that maps them to HTTP statuses.
 * Messages of errors below 500 are safe to show to the caller; above 500 they are hidden.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = options?.details;
  }

  /** Whether the message may reach an HTTP caller. */
  get expose(): boolean {
    return this.status < 500;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'validation_error', message, { details });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'missing or invalid credentials') {
    super(401, 'unauthorized', message);
  }
}

/** Authenticated, but this caller may not do this (a tenant key on an operator route, a deactivated tenant). */
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/** Too many failed attempts from this source: try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'too_many_requests', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What the caller holds no longer works (an invitation used, voided, expired or never issued). */
export class GoneError extends AppError {
  constructor(message: string) {
    super(410, 'gone', message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'not found') {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** The request is understood but too large to store (e.g. a client record beyond DynamoDB's 400 KB). */
export class PayloadTooLargeError extends AppError {
  constructor(message: string, details?: unknown) {
    super(413, 'payload_too_large', message, { details });
  }
}

/** The body is not in the media type the route reads (JSON bodies must say `application/json`). */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

/** A dependency failed in a way that a later attempt may not (SQS, DynamoDB, a 5xx upstream). */
export class TransientError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'transient_failure', message, options);
  }
}

/**
 * A service we depend on outside AWS (Meta's Graph API) failed or did not answer. Unlike other 5xx
 * its message is shown: it is ours, written for the caller (never Meta's raw answer or a token).
 */
export class BadGatewayError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(502, 'bad_gateway', message, options);
  }

  override get expose(): boolean {
    return true;
  }
}

/** A caller's value as it may appear in an error message: ids and contacts may be of any length. */
export function clipped(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** Body of an error response: the message only when it is safe to expose. */
export function errorBody(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof AppError && error.expose) {
    const body: Record<string, unknown> = { error: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { status: error.status, body };
  }
  const status = error instanceof AppError ? error.status : 500;
  return { status, body: { error: status === 503 ? 'service_unavailable' : 'internal_error' } };
}
