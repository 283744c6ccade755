import path from 'node:path';
import { EngineEventHub } from './engine-events.ts';
import { processTreeRssBytes } from './process-memory.ts';
import {
  type DisconnectReason,
  type EngineEventName,
  type EngineListener,
  EngineNotReadyError,
  type EngineState,
  type SessionEngineFactory,
  type StopOptions,
  type WhatsAppSessionEngine,
} from './session-engine.ts';
import type { SessionSnapshotStore } from './session-snapshot-store.ts';
import {
  createWwebjsClient,
  type WwebjsBrowserLike,
  type WwebjsClientFactory,
  type WwebjsClientLike,
  type WwebjsClientSettings,
  type WwebjsPageLike,
} from './wwebjs-client.ts';
import {
  chatIdFor,
  DEFAULT_QR_MAX_REFRESHES,
  disconnectReasonOf,
  engineMessageOf,
  QrRefreshBudget,
  WWEBJS_QR_LIFETIME_MS,
  type WwebjsMessageLike,
} from './wwebjs-mapping.ts';
import { profileDirFor, restoreProfile, zipProfile } from './wwebjs-profile-snapshot.ts';

export interface WwebjsEngineLogger {
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface WwebjsEngineOptions {
  snapshots: SessionSnapshotStore;
  /** Debian's `/usr/bin/chromium` (puppeteer's own download is never used). */
  chromiumPath: string;
  /** The local profiles' root: one directory per tenant (never a network file system). */
  dataDir: string;
  /** QR refreshes shown after the first QR before `qr_expired` (default 5). */
  qrMaxRefreshes?: number;
  logger?: WwebjsEngineLogger;
  /** Chromium arguments added to `--no-sandbox --disable-dev-shm-usage --disable-gpu`. */
  puppeteerArgs?: string[];
  /** whatsapp-web.js's `webVersion` and `webVersionCache` (default: a local cache in `dataDir`). */
  webVersion?: string;
  webVersionCache?: WwebjsClientSettings['webVersionCache'];
  /** Builds the client (default: the real whatsapp-web.js one); the unit tests pass a fake. */
  createClient?: WwebjsClientFactory;
  now?: () => Date;
}

const silentLogger: WwebjsEngineLogger = { warn: () => undefined };

/**
 * One tenant's WhatsApp session in whatsapp-web.js (a Chromium per session), behind the engine port.
 *
 * The saved session lives in OUR snapshot store, never in whatsapp-web.js's: `start` replaces the
 * local profile with the stored snapshot (or an empty profile), `stop({ save: true })` and
 * {@link saveSnapshot} zip the profile into the store (before the browser closes: whatsapp-web.js's
 * `destroy` saves nothing), and only `logout` (ours, or the phone's) deletes it.
 */
export class WwebjsEngine implements WhatsAppSessionEngine {
  private current: EngineState = 'stopped';
  private client: WwebjsClientLike | undefined;
  private browser: WwebjsBrowserLike | undefined;
  private phoneNumber: string | undefined;
  private readonly events: EngineEventHub;
  private readonly logger: WwebjsEngineLogger;
  private readonly qrBudget: QrRefreshBudget;
  readonly profileDir: string;

  constructor(
    readonly tenantId: string,
    private readonly options: WwebjsEngineOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.events = new EngineEventHub((error) =>
      this.logger.warn('a QR engine listener failed', { tenantId, error: String(error) }),
    );
    this.qrBudget = new QrRefreshBudget(options.qrMaxRefreshes ?? DEFAULT_QR_MAX_REFRESHES);
    this.profileDir = profileDirFor(options.dataDir, tenantId);
  }

  async start(): Promise<void> {
    if (this.current !== 'stopped' && this.current !== 'disconnected') return;
    this.current = 'starting';
    this.phoneNumber = undefined;
    this.qrBudget.reset();
    let client: WwebjsClientLike;
    try {
      await restoreProfile(this.profileDir, await this.options.snapshots.load(this.tenantId));
      client = await (this.options.createClient ?? createWwebjsClient)(this.settings());
    } catch (error) {
      this.current = 'stopped';
      throw error; // a failed read is not "no session": the runner retries, no new QR is forced
    }
    this.client = client;
    this.listen(client);
    try {
      await client.initialize();
    } catch (error) {
      if (this.client === client) await this.end(client, 'transient', `initialize failed: ${String(error)}`);
    }
    // stopped while starting: the browser may have come up after the stop's destroy
    if (this.client !== client) await this.closeClient(client);
  }

  async send(to: string, text: string): Promise<{ messageId: string }> {
    const client = this.client;
    if (this.current !== 'connected' || !client) throw new EngineNotReadyError(this.current);
    const message = await client.sendMessage(chatIdFor(to), text);
    return { messageId: message.id._serialized };
  }

  state(): EngineState {
    return this.current;
  }

  /**
   * Zips the live session's profile into the snapshot store (the runner calls it now and then, and
   * `stop({ save: true })` does). Only a connected session is saved; answers whether it was.
   */
  async saveSnapshot(): Promise<boolean> {
    if (this.current !== 'connected') return false;
    const zip = await zipProfile(this.profileDir);
    if (!zip) {
      this.logger.warn('the QR session profile has no session data to save', { tenantId: this.tenantId });
      return false;
    }
    await this.options.snapshots.save(this.tenantId, zip);
    return true;
  }

  async stop({ save }: StopOptions): Promise<void> {
    const client = this.client;
    let saveError: unknown;
    if (save && client) {
      try {
        await this.saveSnapshot();
      } catch (error) {
        saveError = error;
      }
    }
    this.client = undefined;
    this.current = 'stopped';
    if (client) await this.closeClient(client);
    if (saveError !== undefined) throw saveError;
  }

  async logout(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    const wasLive = client !== undefined && this.current !== 'stopped' && this.current !== 'disconnected';
    if (client) {
      if (this.current === 'linking' || this.current === 'connected') {
        await client.logout().catch((error: unknown) =>
          this.logger.warn('whatsapp-web.js logout failed', {
            tenantId: this.tenantId,
            error: String(error),
          }),
        );
      }
      await this.closeClient(client);
    }
    await this.forgetSession();
    if (!wasLive) {
      this.current = 'stopped';
      return;
    }
    this.current = 'disconnected';
    this.events.emit('disconnected', { reason: 'logout' });
  }

  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): () => void {
    return this.events.on(event, listener);
  }

  private settings(): WwebjsClientSettings {
    return {
      profileDir: this.profileDir,
      chromiumPath: this.options.chromiumPath,
      puppeteerArgs: this.options.puppeteerArgs ?? [],
      webVersion: this.options.webVersion,
      webVersionCache: this.options.webVersionCache ?? {
        type: 'local',
        path: path.join(path.resolve(this.options.dataDir), '.wwebjs_cache'),
      },
      onBrowser: (browser, page) => this.watchBrowser(browser, page),
    };
  }

  private listen(client: WwebjsClientLike): void {
    const live = () => this.client === client;
    client.on('qr', (raw) => {
      const qr = String(raw);
      if (!live()) return;
      if (!this.qrBudget.take()) {
        void this.end(client, 'qr_expired', 'the QR was not scanned after its refreshes');
        return;
      }
      this.current = 'qr';
      const now = (this.options.now ?? (() => new Date()))();
      this.events.emit('qr', { qr, expiresAt: new Date(now.getTime() + WWEBJS_QR_LIFETIME_MS) });
    });
    client.on('authenticated', () => {
      if (!live()) return;
      this.current = 'linking';
      this.events.emit('linked', {});
    });
    client.on('ready', () => {
      if (!live()) return;
      this.phoneNumber = client.info?.wid?.user ?? '';
      this.current = 'connected';
      this.events.emit('ready', { phoneNumber: this.phoneNumber });
    });
    client.on('message_create', (message) => {
      if (!live() || this.current !== 'connected') return;
      const mapped = engineMessageOf(message as WwebjsMessageLike, this.phoneNumber);
      if (mapped) this.events.emit('message', mapped); // notices are no one's message
    });
    client.on('disconnected', (reason: unknown) => {
      if (live()) void this.end(client, disconnectReasonOf(reason), String(reason));
    });
    client.on('auth_failure', (message: unknown) => {
      if (live()) void this.end(client, 'logout', `auth_failure: ${String(message)}`);
    });
  }

  private watchBrowser(browser: WwebjsBrowserLike, page: WwebjsPageLike): void {
    const client = this.client;
    if (!client) return;
    this.browser = browser;
    const lost = (what: string) => () => {
      if (this.client === client) void this.end(client, 'transient', what);
    };
    browser.on('disconnected', lost('the browser disconnected'));
    page.on('error', lost('the page crashed'));
    page.on('close', lost('the page closed'));
  }

  /** Ends the live session: closes its browser first (a restart must not share its profile). */
  private async end(client: WwebjsClientLike, reason: DisconnectReason, detail: string): Promise<void> {
    if (this.client !== client) return;
    this.client = undefined;
    this.current = 'disconnected';
    await this.closeClient(client);
    if (reason === 'logout') await this.forgetSession();
    this.events.emit('disconnected', { reason, detail });
  }

  /** Chromium's resident memory, all its processes together (the runner's memory watchdog reads it). */
  async memoryBytes(): Promise<number | undefined> {
    const pid = this.browser?.process()?.pid;
    return pid === undefined ? undefined : processTreeRssBytes(pid);
  }

  /** Destroys the client, and kills its Chromium if it outlived that (a hung or crashed browser). */
  private async closeClient(client: WwebjsClientLike): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    await client
      .destroy()
      .catch((error: unknown) =>
        this.logger.warn('whatsapp-web.js destroy failed', { tenantId: this.tenantId, error: String(error) }),
      );
    const child = browser?.process();
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** The account is unlinked: its snapshot and local profile are worthless. */
  private async forgetSession(): Promise<void> {
    try {
      await this.options.snapshots.delete(this.tenantId);
    } catch (error) {
      this.logger.warn('deleting the QR session snapshot failed', {
        tenantId: this.tenantId,
        error: String(error),
      });
    }
    await restoreProfile(this.profileDir, undefined).catch(() => undefined);
  }
}

/** The whatsapp-web.js engines of a runner: one {@link WwebjsEngine} per tenant. */
export function createWwebjsEngineFactory(options: WwebjsEngineOptions): SessionEngineFactory {
  return (tenantId) => new WwebjsEngine(tenantId, options);
}
