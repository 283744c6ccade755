import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type GraphEndpoint, type GraphFaults, type GraphRequest, versionedPath } from './graph-api.ts';
import {
  defaultFaultMessage,
  GraphRequestError,
  graphErrorBody,
  invalidParameter,
  unknownObject,
} from './graph-errors.ts';
import type { SimulatorStore } from './store.ts';
import type { SimulatorBusiness } from './types.ts';

/**
 * The Graph reads a "test connection" makes, answered in Meta's shapes:
 * - `GET /{version}/{phone-number-id}?fields=…`: the number of a business the simulator knows
 *   (`listBusinesses`, i.e. the local stack's active tenants), quality GREEN, health AVAILABLE. Other
 *   ids are left to the next endpoint (the media lookup), which answers Meta's error 100 for them.
 * - `GET /{version}/debug_token?input_token=…&access_token=APP_ID|APP_SECRET`: valid, never expires,
 *   with the WhatsApp scopes. The app token must carry the simulator's App Secret (else 190).
 * - `GET /{version}/{waba-id}/phone_numbers`: the known numbers whose WABA ({@link simulatedWabaIdOf}) it is.
 * - `GET /{version}/{waba-id}/subscribed_apps`: any numeric WABA id has the simulator's app subscribed
 *   (the simulator does deliver webhooks); a phone number id or a non-numeric id is Meta's error 100.
 *
 * Tokens: unlike the send endpoints (where any bearer token is valid), these reads accept only a token
 * Meta could have issued ({@link isAcceptedToken}: `EAA…`, at least 20 letters and digits) or the
 * platform's token the simulator was given (the local stack's WHATSAPP_ACCESS_TOKEN). Another token is
 * Meta's 190 "Cannot parse access token" (HTTP 401, Meta's exact body); a missing one is Meta's 190 as
 * everywhere in the stand-in (graph-errors.ts). debug_token reports an input token it refuses the way
 * Meta does, in its data (`is_valid: false` with the error), not as an HTTP error. A revoked or expired
 * token is a fault (`failNext(n, { httpStatus: 401, code: 190, operation: 'other' })`): these reads are
 * operation `other`; debug_token reports it in its data too.
 */

/** The id and name the simulator's app goes by in `subscribed_apps` and `debug_token`. */
export const SIMULATOR_APP = { id: '100000000000099', name: 'WhatsApp simulator' } as const;

const PHONE_NUMBER_NODE = 'WhatsAppBusinessPhoneNumber';
const DEFAULT_PHONE_FIELDS = [
  'verified_name',
  'code_verification_status',
  'display_phone_number',
  'quality_rating',
];
const WHATSAPP_SCOPES = ['whatsapp_business_management', 'whatsapp_business_messaging'];

export interface GraphReadEndpointOptions {
  /** Media ids are left to the media lookup without asking `listBusinesses`. */
  store: SimulatorStore;
  /** The pending faults, which these reads take from like every endpoint (debug_token by hand). */
  faults: GraphFaults;
  /** The App Secret; an app token `APP_ID|APP_SECRET` must carry it. */
  appSecret: string;
  /** The business numbers the simulator knows; none without it. */
  listBusinesses?: () => Promise<SimulatorBusiness[]>;
  /** The platform's WhatsApp token, accepted besides Meta-shaped tokens; only those without it. */
  platformAccessToken?: string;
}

/** Meta's answer to a token it cannot parse (its exact body: no `error_data`). */
const UNPARSABLE_TOKEN = {
  httpStatus: 401,
  code: 190,
  message: 'Invalid OAuth access token - Cannot parse access token',
} as const;

/** What Meta's access tokens look like: `EAA` and at least 20 letters and digits in all. */
const META_SHAPED_TOKEN = /^EAA[A-Za-z0-9]{17,}$/;

/** Whether these reads take `token`: Meta-shaped, or the platform's token the simulator was given. */
export function isAcceptedToken(token: string, platformAccessToken: string | undefined): boolean {
  if (META_SHAPED_TOKEN.test(token)) return true;
  return platformAccessToken !== undefined && platformAccessToken !== '' && token === platformAccessToken;
}

function unparsableTokenBody(): unknown {
  return {
    error: {
      message: UNPARSABLE_TOKEN.message,
      type: 'OAuthException',
      code: UNPARSABLE_TOKEN.code,
      fbtrace_id: `SIM${randomBytes(8).toString('base64url')}`,
    },
  };
}

function bearerToken(request: GraphRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.req.headers.authorization ?? '')?.[1];
}

/**
 * Meta's 190 for a missing token (thrown) or one these reads do not take (answered, true); false when
 * the bearer token is accepted. Records the token's suffix on the call either way.
 */
function refuseToken(request: GraphRequest, options: GraphReadEndpointOptions): boolean {
  request.requireToken();
  if (isAcceptedToken(bearerToken(request) ?? '', options.platformAccessToken)) return false;
  request.answer(UNPARSABLE_TOKEN.httpStatus, unparsableTokenBody());
  return true;
}

export function createGraphReadEndpoints(options: GraphReadEndpointOptions): GraphEndpoint {
  const endpoints = [
    debugTokenEndpoint(options),
    subscribedAppsEndpoint(options),
    wabaPhoneNumbersEndpoint(options),
    phoneNumberEndpoint(options),
  ];
  return async (request) => {
    if (request.method !== 'GET') return false;
    for (const endpoint of endpoints) if (await endpoint(request)) return true;
    return false;
  };
}

async function findBusiness(
  options: GraphReadEndpointOptions,
  phoneNumberId: string,
): Promise<SimulatorBusiness | undefined> {
  if (!options.listBusinesses) return undefined;
  return (await options.listBusinesses()).find((business) => business.phoneNumberId === phoneNumberId);
}

/** `GET /{version}/{phone-number-id}?fields=…` for a known business number. */
function phoneNumberEndpoint(options: GraphReadEndpointOptions): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (!path || path.edge !== undefined || options.store.media.has(path.objectId)) return false;
    const business = await findBusiness(options, path.objectId);
    if (!business) return false;
    request.call.phoneNumberId = path.objectId;
    if (refuseToken(request, options) || request.injectFault()) return true;
    const node = phoneNumberNode(business);
    const fields = requestedFields(request.url.searchParams.get('fields')) ?? DEFAULT_PHONE_FIELDS;
    const body: Record<string, unknown> = {};
    for (const field of fields) {
      if (!(field in node)) {
        throw invalidParameter(
          `Tried accessing nonexisting field (${field}) on node type (${PHONE_NUMBER_NODE})`,
        );
      }
      body[field] = node[field];
    }
    body.id = path.objectId;
    request.answer(200, body);
    return true;
  };
}

/** The top-level names of a `fields` list (`health_status{can_send_message}` → `health_status`). */
function requestedFields(fields: string | null): string[] | undefined {
  if (fields === null || fields.trim() === '') return undefined;
  const names = fields
    .replace(/\{[^{}]*\}/g, '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length > 0 ? names : undefined;
}

/** A fictional number (+1 555 is reserved for fiction): the simulator is not told the tenant's number. */
function displayNumber(phoneNumberId: string): string {
  const digits = phoneNumberId.replace(/\D/g, '').padStart(4, '0').slice(-4);
  return `+1 555-555-${digits}`;
}

/** The WABA the simulator says holds a business number (its `health_status` names the same one). */
export const simulatedWabaIdOf = (phoneNumberId: string) => relatedId(phoneNumberId, 'waba');

/** A stable fake id of the entities around a number (its WABA, business). */
function relatedId(seed: string, kind: string): string {
  const hash = createHash('sha256').update(`${kind}:${seed}`).digest();
  return String(100_000_000_000_000 + (hash.readUInt32BE(0) % 900_000_000_000_000));
}

function phoneNumberNode(business: SimulatorBusiness): Record<string, unknown> {
  const id = business.phoneNumberId;
  const available = (entity_type: string, entityId: string) => ({
    entity_type,
    id: entityId,
    can_send_message: 'AVAILABLE',
  });
  return {
    id,
    display_phone_number: displayNumber(id),
    verified_name: business.name,
    quality_rating: 'GREEN',
    code_verification_status: 'VERIFIED',
    name_status: 'APPROVED',
    platform_type: 'CLOUD_API',
    throughput: { level: 'STANDARD' },
    is_official_business_account: false,
    health_status: {
      can_send_message: 'AVAILABLE',
      entities: [
        available('PHONE_NUMBER', id),
        available('WABA', relatedId(id, 'waba')),
        available('BUSINESS', relatedId(id, 'business')),
        available('APP', SIMULATOR_APP.id),
      ],
    },
  };
}

/** `GET /{version}/{waba-id}/phone_numbers`: the known business numbers whose WABA it is. */
function wabaPhoneNumbersEndpoint(options: GraphReadEndpointOptions): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (path?.edge !== 'phone_numbers') return false;
    if (refuseToken(request, options) || request.injectFault()) return true;
    if (!/^\d+$/.test(path.objectId)) throw unknownObject(path.objectId);
    const businesses = (await options.listBusinesses?.()) ?? [];
    request.answer(200, {
      data: businesses
        .filter((business) => simulatedWabaIdOf(business.phoneNumberId) === path.objectId)
        .map((business) => ({ id: business.phoneNumberId, verified_name: business.name })),
    });
    return true;
  };
}

/** `GET /{version}/{waba-id}/subscribed_apps`. */
function subscribedAppsEndpoint(options: GraphReadEndpointOptions): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (path?.edge !== 'subscribed_apps') return false;
    if (refuseToken(request, options) || request.injectFault()) return true;
    if (await findBusiness(options, path.objectId)) {
      throw invalidParameter(
        `Tried accessing nonexisting field (subscribed_apps) on node type (${PHONE_NUMBER_NODE})`,
      );
    }
    if (!/^\d+$/.test(path.objectId)) throw unknownObject(path.objectId);
    request.answer(200, {
      data: [
        {
          whatsapp_business_api_data: {
            id: SIMULATOR_APP.id,
            name: SIMULATOR_APP.name,
            link: `https://www.facebook.com/games/?app_id=${SIMULATOR_APP.id}`,
          },
        },
      ],
    });
    return true;
  };
}

/** `GET [/{version}]/debug_token?input_token=…` with an app token (query `access_token` or bearer). */
function debugTokenEndpoint(options: GraphReadEndpointOptions): GraphEndpoint {
  return async (request) => {
    const { segments, url } = request;
    const isDebugToken =
      (segments.length === 1 && segments[0] === 'debug_token') ||
      (segments.length === 2 && /^v\d+\.\d+$/.test(segments[0]!) && segments[1] === 'debug_token');
    if (!isDebugToken) return false;
    const appId = checkAppToken(request, options);
    if (appId === null) return true;
    const inputToken = url.searchParams.get('input_token');
    if (!inputToken) throw invalidParameter('The parameter input_token is required');
    request.call.tokenSuffix = inputToken.slice(-4);
    if (!isAcceptedToken(inputToken, options.platformAccessToken)) {
      // Meta cannot tell whose token it is: the data holds only the error.
      const error = { code: UNPARSABLE_TOKEN.code, message: UNPARSABLE_TOKEN.message };
      request.answer(200, { data: { error, is_valid: false, scopes: [] } });
      return true;
    }
    const fault = options.faults.take(request.call);
    const now = Math.floor(Date.now() / 1000);
    const about = {
      app_id: appId ?? SIMULATOR_APP.id,
      type: 'SYSTEM_USER',
      application: SIMULATOR_APP.name,
      data_access_expires_at: 0,
      expires_at: 0,
      user_id: relatedId(inputToken, 'system-user'),
    };
    if (fault?.code === 190) {
      // Meta reports a revoked or expired input token in the data, with HTTP 200.
      const error: Record<string, unknown> = {
        code: 190,
        message: fault.message ?? defaultFaultMessage(190),
      };
      if (fault.subcode !== undefined) error.subcode = fault.subcode;
      request.answer(200, { data: { ...about, error, is_valid: false, scopes: [] } });
      return true;
    }
    if (fault) {
      request.answer(
        fault.httpStatus,
        graphErrorBody(fault.code, fault.message ?? defaultFaultMessage(fault.code), fault.subcode),
      );
      return true;
    }
    request.answer(200, {
      data: {
        ...about,
        is_valid: true,
        issued_at: now,
        scopes: [...WHATSAPP_SCOPES, 'business_management'],
        granular_scopes: WHATSAPP_SCOPES.map((scope) => ({ scope })),
      },
    });
    return true;
  };
}

/**
 * The app id of an app token `APP_ID|APP_SECRET` (its secret checked), undefined for another kind of
 * token that these reads take ({@link isAcceptedToken}); null once it answered Meta's 190 for another
 * token these reads refuse. Meta's errors when there is none or the secret is wrong.
 */
function checkAppToken(request: GraphRequest, options: GraphReadEndpointOptions): string | undefined | null {
  const token = request.url.searchParams.get('access_token') || bearerToken(request);
  if (!token) {
    throw new GraphRequestError(400, 104, 'An access token is required to request this resource.');
  }
  const separator = token.indexOf('|');
  if (separator < 0) {
    if (isAcceptedToken(token, options.platformAccessToken)) return undefined;
    request.answer(UNPARSABLE_TOKEN.httpStatus, unparsableTokenBody());
    return null;
  }
  const appId = token.slice(0, separator);
  const secret = Buffer.from(token.slice(separator + 1));
  const expected = Buffer.from(options.appSecret);
  if (!/^\d+$/.test(appId) || secret.length !== expected.length || !timingSafeEqual(secret, expected)) {
    throw new GraphRequestError(401, 190, 'Invalid OAuth access token signature.');
  }
  return appId;
}
