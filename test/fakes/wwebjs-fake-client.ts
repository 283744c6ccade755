import { EventEmitter } from 'node:events';
import type { WwebjsClientLike, WwebjsClientSettings } from '../../lib/qr/wwebjs-client.ts';

/** A stand-in for whatsapp-web.js's Client: the test emits its events. */
export class FakeClient extends EventEmitter implements WwebjsClientLike {
  info: { wid: { user: string } } | undefined;
  readonly calls: string[];
  readonly browser = Object.assign(new EventEmitter(), { process: () => null });
  readonly page = new EventEmitter();

  constructor(
    readonly settings: WwebjsClientSettings,
    calls: string[],
  ) {
    super();
    this.calls = calls;
  }

  async initialize(): Promise<void> {
    this.calls.push('initialize');
    this.settings.onBrowser(this.browser, this.page);
  }
  async destroy(): Promise<void> {
    this.calls.push('destroy');
  }
  async logout(): Promise<void> {
    this.calls.push('logout');
  }
  async sendMessage(chatId: string, text: string): Promise<{ id: { _serialized: string } }> {
    this.calls.push(`send ${chatId} ${text}`);
    return { id: { _serialized: `true_${chatId}_SENT1` } };
  }
}
