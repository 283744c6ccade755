import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearerTokenSuffix,
  defaultFaultMessage,
  GraphRequestError,
  graphErrorBody,
  unknownPath,
} from './graph-errors.ts';
import { isUnder, requestUrl, sendJson } from './http.ts';
import type { SimulatorStore } from './store.ts';
import type { GraphCall, GraphFault, SimulatorPart } from './types.ts';

/**
 * The Graph API stand-in under its prefix (default `/graph`): records every call, answers faults the
 * tests injected, and hands the request to its endpoints in order (graph-messages.ts, graph-media.ts,
 * …); a path no endpoint takes gets Meta's error 2500. A new Graph endpoint is one more
 * {@link GraphEndpoint} in the list.
 */

/** One request to the Graph stand-in, as its endpoints see it. */
export interface GraphRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  /** The decoded path segments below the prefix, e.g. `['v26.0', '631261586727899', 'messages']`. */
  segments: string[];
  /** This request's record in the store; endpoints set its operation and phone_number_id. */
  call: GraphCall;
  /** Answers JSON and records the status on the call. */
  answer(status: number, body: unknown, headers?: Record<string, string>): void;
  /** The bearer token's last 4 characters, recorded on the call; Meta's 190 without a token. */
  requireToken(): string;
  /** Answers with the next pending fault that matches the call; true when it did. */
  injectFault(): boolean;
}

/** Answers the requests it knows (true) and leaves the rest to the next endpoint (false). */
export type GraphEndpoint = (request: GraphRequest) => Promise<boolean>;

/** A path of the form `/{version}/{object-id}[/{edge}]`, or undefined. */
export function versionedPath(
  segments: string[],
): { version: string; objectId: string; edge?: string } | undefined {
  const [version, objectId, edge, ...extra] = segments;
  if (!version || !/^v\d+\.\d+$/.test(version) || !objectId || extra.length > 0) return undefined;
  return edge === undefined ? { version, objectId } : { version, objectId, edge };
}

/** The faults `failNext` queued, each for its number of matching calls. */
export interface GraphFaults {
  add(count: number, fault: GraphFault): void;
  /** The fault this call fails with, if any (counting it down). */
  take(call: GraphCall): GraphFault | undefined;
  clear(): void;
}

export function createGraphFaults(): GraphFaults {
  const pending: Array<{ remaining: number; fault: GraphFault }> = [];
  const matches = (fault: GraphFault, call: GraphCall) => {
    if (fault.phoneNumberId !== undefined && fault.phoneNumberId !== call.phoneNumberId) return false;
    if (fault.operation !== undefined) return fault.operation === call.operation;
    return call.operation === 'send' || call.operation === 'read';
  };
  return {
    add(count, fault) {
      if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
      pending.push({ remaining: count, fault });
    },
    take(call) {
      const index = pending.findIndex(({ fault }) => matches(fault, call));
      if (index < 0) return undefined;
      const entry = pending[index]!;
      entry.remaining -= 1;
      if (entry.remaining <= 0) pending.splice(index, 1);
      return entry.fault;
    },
    clear() {
      pending.length = 0;
    },
  };
}

export function createGraphApi(options: {
  prefix: string;
  store: SimulatorStore;
  faults: GraphFaults;
  endpoints: GraphEndpoint[];
}): SimulatorPart {
  const { prefix, store, faults, endpoints } = options;
  return async (req, res) => {
    const url = requestUrl(req);
    if (!isUnder(url.pathname, prefix)) return false;
    const subPath = url.pathname.slice(prefix.length) || '/';
    let segments: string[];
    try {
      segments = subPath.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      sendJson(res, 400, { error: { message: '(#100) malformed path', type: 'OAuthException', code: 100 } });
      return true;
    }
    const method = req.method ?? 'GET';
    const call: GraphCall = {
      method,
      path: subPath,
      operation: 'other',
      status: 0,
      at: new Date().toISOString(),
    };
    store.graphCalls.push(call);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      sendJson(res, status, body, headers);
    };
    const request: GraphRequest = {
      req,
      res,
      method,
      url,
      segments,
      call,
      answer,
      requireToken() {
        const suffix = bearerTokenSuffix(req);
        call.tokenSuffix = suffix;
        return suffix;
      },
      injectFault() {
        const fault = faults.take(call);
        if (!fault) return false;
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        const message = fault.message ?? defaultFaultMessage(fault.code);
        answer(fault.httpStatus, graphErrorBody(fault.code, message, fault.subcode), headers);
        return true;
      },
    };
    try {
      for (const endpoint of endpoints) if (await endpoint(request)) return true;
      throw unknownPath();
    } catch (error) {
      if (!(error instanceof GraphRequestError)) throw error;
      answer(error.httpStatus, graphErrorBody(error.code, error.message, error.subcode, error.type));
      return true;
    }
  };
}
