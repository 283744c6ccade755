import { EventEmitter } from 'node:events';
import type { WwebjsClientLike, WwebjsClientSettings } from '../../lib/qr/wwebjs-client.ts';
import type { WwebjsMediaLike, WwebjsMessageLike } from '../../lib/qr/wwebjs-mapping.ts';

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

/** What a fake message is made of: whatsapp-web.js Message fields, and the media behind it. */
export interface FakeMessageFields extends Partial<Omit<WwebjsMessageLike, 'rawData' | 'downloadMedia'>> {
  /** The WhatsApp Web model (`mimetype`, `size`, `filename`), read through `rawData` as on the real one. */
  data?: { mimetype?: string; size?: number; filename?: string };
  /** What `downloadMedia` answers (undefined: WhatsApp no longer has the media). */
  download?: WwebjsMediaLike | undefined;
}

/**
 * A stand-in for whatsapp-web.js's Message, shaped like the real one: `rawData` is a getter of the
 * prototype and `downloadMedia` a method using `this` (so a detached call would fail here too).
 */
export class FakeMessage {
  readonly id: WwebjsMessageLike['id'];
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly fromMe: boolean;
  readonly timestamp: number;
  readonly type: string;
  readonly hasMedia: boolean;
  readonly location: WwebjsMessageLike['location'];
  readonly vCards: string[];
  downloads = 0;
  private readonly _data: FakeMessageFields['data'];
  private readonly media: WwebjsMediaLike | undefined;

  constructor(fields: FakeMessageFields) {
    this.id = fields.id ?? { _serialized: 'false_34699000001@c.us_3EB0FAKE' };
    this.from = fields.from ?? '34699000001@c.us';
    this.to = fields.to ?? '34600111222@c.us';
    this.body = fields.body ?? '';
    this.fromMe = fields.fromMe ?? false;
    this.timestamp = fields.timestamp ?? 1_767_225_600;
    this.type = fields.type ?? 'chat';
    this.hasMedia = fields.hasMedia ?? false;
    this.location = fields.location;
    this.vCards = fields.vCards ?? [];
    this._data = fields.data ?? {};
    this.media = fields.download;
  }

  get rawData() {
    return this._data;
  }

  async downloadMedia(): Promise<WwebjsMediaLike | undefined> {
    this.downloads += 1;
    return this.hasMedia ? this.media : undefined;
  }
}
