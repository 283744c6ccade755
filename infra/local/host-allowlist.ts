import type { IncomingMessage } from 'node:http';

/**
 * The Host names the local HTTP servers answer. Listening on 127.0.0.1 keeps the network out but not
 * a web page the developer opens: through DNS rebinding (evil.example re-resolved to 127.0.0.1) its
 * requests reach us as same-origin, with `Host: evil.example:3000` and a matching Origin. So only
 * loopback names with our port are answered, plus the names in `LOCAL_ALLOWED_HOSTS` (comma-separated,
 * `name` for any port or `name:port`), e.g. the tunnel that forwards Meta's webhooks.
 */
export interface HostAllowlist {
  /** `127.0.0.1`, `localhost` or `[::1]` with our port: this machine, by a name no page can rebind. */
  isLoopback(host: string | undefined): boolean;
  /** A loopback name or one of the configured names. */
  allows(host: string | undefined): boolean;
}

/** `host[:port]` as the URL parser normalizes it (lower case, no default port), or undefined if malformed. */
function parseHost(host: string | undefined): { host: string; hostname: string } | undefined {
  if (!host || /[/?#@\s]/.test(host)) return undefined;
  try {
    const url = new URL(`http://${host}`);
    return { host: url.host, hostname: url.hostname };
  } catch {
    return undefined;
  }
}

export function createHostAllowlist(port: number, configured = ''): HostAllowlist {
  const loopback = new Set(
    ['127.0.0.1', 'localhost', '[::1]'].map((name) => parseHost(`${name}:${port}`)?.host),
  );
  const entries = configured
    .split(',')
    .map((entry) => parseHost(entry.trim()))
    .filter((entry) => entry !== undefined);
  const exact = new Set(entries.filter((entry) => entry.host !== entry.hostname).map((entry) => entry.host));
  const anyPort = new Set(
    entries.filter((entry) => entry.host === entry.hostname).map((entry) => entry.hostname),
  );
  const isLoopback = (host: string | undefined) => loopback.has(parseHost(host)?.host);
  return {
    isLoopback,
    allows(host) {
      const parsed = parseHost(host);
      if (!parsed) return false;
      return isLoopback(host) || exact.has(parsed.host) || anyPort.has(parsed.hostname);
    },
  };
}

/**
 * A request from this machine straight to us: a loopback Host and no proxy headers. A tunnel that
 * rewrites Host to 127.0.0.1 (its agent runs here) still says, in these headers, that it forwarded.
 */
export function isDirectLoopbackRequest(req: IncomingMessage, hosts: HostAllowlist): boolean {
  if (req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined) return false;
  return hosts.isLoopback(req.headers.host);
}

/** Whether a URL names this machine (127.0.0.0/8, ::1, localhost and its subdomains). */
export function isLoopbackUrl(value: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(value).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}
