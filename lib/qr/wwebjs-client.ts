import { mkdir } from 'node:fs/promises';

/**
 * The whatsapp-web.js client as the engine uses it: the real `Client` (built by
 * {@link createWwebjsClient}), or a fake EventEmitter in the unit tests. Events used: `qr`,
 * `authenticated`, `auth_failure`, `ready`, `message_create`, `disconnected`.
 */
export interface WwebjsClientLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  initialize(): Promise<void>;
  destroy(): Promise<void>;
  logout(): Promise<void>;
  sendMessage(chatId: string, text: string): Promise<{ id: { _serialized: string } }>;
  info?: { wid?: { user?: string } } | undefined;
}

/** The browser and page of a client, for their loss (crash, closed, killed). */
export interface WwebjsBrowserLike {
  on(event: 'disconnected', listener: () => void): unknown;
  process(): { pid?: number | undefined; exitCode: number | null; signalCode: string | null } | null;
}
export interface WwebjsPageLike {
  on(event: 'error' | 'close', listener: (error?: unknown) => void): unknown;
}

export interface WwebjsClientSettings {
  /** The Chromium profile of this tenant's session (`userDataDir`). */
  profileDir: string;
  chromiumPath: string;
  /** Added to the engine's own Chromium arguments. */
  puppeteerArgs: string[];
  /** whatsapp-web.js's `webVersion` (its default when undefined). */
  webVersion?: string | undefined;
  /** whatsapp-web.js's `webVersionCache` (`{ type: 'local', path }` and the like). */
  webVersionCache: {
    type: 'local' | 'remote' | 'none';
    path?: string;
    strict?: boolean;
    remotePath?: string;
  };
  /** Told once the browser runs (before WhatsApp Web loads), to watch for its loss. */
  onBrowser: (browser: WwebjsBrowserLike, page: WwebjsPageLike) => void;
}

export type WwebjsClientFactory = (settings: WwebjsClientSettings) => Promise<WwebjsClientLike>;

/** Chromium arguments for a container: no sandbox (no user namespaces), no small `/dev/shm`. */
export const BASE_CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'];

/**
 * The real whatsapp-web.js client (loaded only here, so nothing else pulls puppeteer in).
 *
 * It runs with `NoAuth` on our own `userDataDir`: whatsapp-web.js's strategies delete saved sessions
 * on their own (LocalAuth on logout, RemoteAuth on any unaccepted state, CONFLICT included), while
 * here the profile is only ours to keep or delete; `takeoverOnConflict: false` never fights another
 * device, and `qrMaxRetries: 0` leaves the QR budget to the engine.
 */
export const createWwebjsClient: WwebjsClientFactory = async (settings) => {
  const { default: wwebjs } = await import('whatsapp-web.js');
  await mkdir(settings.profileDir, { recursive: true });
  const auth = new wwebjs.NoAuth();
  const client = new wwebjs.Client({
    authStrategy: auth,
    takeoverOnConflict: false,
    qrMaxRetries: 0,
    ...(settings.webVersion === undefined ? {} : { webVersion: settings.webVersion }),
    webVersionCache: settings.webVersionCache as never,
    puppeteer: {
      executablePath: settings.chromiumPath,
      headless: true,
      userDataDir: settings.profileDir,
      args: [...BASE_CHROMIUM_ARGS, ...settings.puppeteerArgs],
    },
  });
  auth.afterBrowserInitialized = async () => {
    const { pupBrowser, pupPage } = client;
    if (pupBrowser && pupPage) settings.onBrowser(pupBrowser, pupPage);
  };
  return client as unknown as WwebjsClientLike;
};
