import QRCode from 'qrcode';
import type { QrState, QrStatus } from '../../qr/qr-status-store.ts';
import { html, type RawHtml, raw } from '../html.ts';
import type { PageLanguage } from '../i18n.ts';
import { landingWords as words } from './landing-words.ts';

/**
 * The QR panel of a QR-mode tenant's landing page: where its WhatsApp session is, in words; in
 * state `qr` the code itself, drawn here as an SVG (paths only: the QR's text is in no attribute and
 * no log), with how long it can still be scanned; the linked number once connected; and the
 * buttons that ask the tenant API to unlink the account or to show a new QR. Served, to the
 * tenant's own session only, by `GET /client/{slug}/qr`; landing.js fetches it every 5 s while the
 * page is visible and puts it in place, so a new QR and the connection show without a reload.
 */

/** The states in which the account can be unlinked from here (a session exists or is linked). */
const UNLINKABLE: ReadonlySet<QrState> = new Set(['linking', 'connected', 'reconnecting']);
/** The states in which the runner waits for the tenant to ask again. */
const RESTARTABLE: ReadonlySet<QrState> = new Set(['qr_expired', 'logged_out', 'failed']);
/** The states that show the linked number, when known. */
const SHOWS_NUMBER: ReadonlySet<QrState> = new Set(['linking', 'connected', 'reconnecting']);

const STATE_CLASS: Record<QrState, 'ok' | 'warn' | 'info'> = {
  starting: 'info',
  qr: 'info',
  linking: 'info',
  connected: 'ok',
  reconnecting: 'warn',
  logged_out: 'warn',
  qr_expired: 'warn',
  failed: 'warn',
};

/** The QR as an SVG of paths (no text element, no title: nothing of the QR's text is in it). */
export async function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export async function qrPanel(
  status: QrStatus | undefined,
  lang: PageLanguage,
  now: Date = new Date(),
): Promise<RawHtml> {
  const w = words[lang].qrPanel;
  // No status yet: the runner has not reported the session; it is being started.
  const state: QrState = status?.state ?? 'starting';
  const showQr = state === 'qr' && typeof status?.qr === 'string' && status.qr.length > 0;
  let code: RawHtml = raw('');
  if (showQr) {
    const expiresAt = status?.qr_expires_at;
    const left = expiresAt
      ? Math.max(0, Math.round((Date.parse(expiresAt) - now.getTime()) / 1000))
      : undefined;
    code = html`<div class="qr-code" role="img" aria-label="${w.qrLabel}">${raw(await qrSvg(status!.qr!))}</div>
<p class="hint" id="qr-scan-hint">${w.scanHint}</p>
${
  expiresAt && left !== undefined && Number.isFinite(left)
    ? html`<p class="qr-expiry">${w.expiresIn} <time datetime="${expiresAt}" data-qr-expires="${expiresAt}">${left} ${w.seconds}</time></p>`
    : ''
}`;
  }
  const number =
    SHOWS_NUMBER.has(state) && status?.phone_number
      ? html`<p class="qr-number">${w.linkedNumber}: <strong id="qr-phone-number">${status.phone_number}</strong></p>`
      : '';
  const buttons = [
    UNLINKABLE.has(state)
      ? html`<button type="button" class="danger" data-qr-action="unlink">${w.unlink}</button>`
      : '',
    RESTARTABLE.has(state) ? html`<button type="button" data-qr-action="start">${w.start}</button>` : '',
  ];
  return html`<section id="qr-panel" class="card qr-panel" aria-labelledby="qr-heading" data-qr-state="${state}">
<h3 id="qr-heading">${w.heading}</h3>
<p id="qr-state" class="status ${STATE_CLASS[state]}">${w.states[state]}</p>
${code}
${number}
<div class="qr-actions">${buttons}</div>
<p class="hint">${w.refreshHint}</p>
</section>`;
}
