import { html, page, type RawHtml } from '../html.ts';
import type { PageLanguage } from '../i18n.ts';
import type { PublicStatus } from '../public-status.ts';
import { type LandingWords as Words, landingWords as words } from './landing-words.ts';

/**
 * A tenant's landing page, `/client/{slug}`: its public status, rendered on the server and refreshed
 * by landing.js every 10 s while the tab is visible; signing in (an invitation link, or the API key)
 * opens the tenant's own panel, which landing.js fills from the tenant API. The panel's markup (labels
 * and empty fields, no data) is rendered here, hidden; the script only sets values and toggles
 * `hidden`, so every word is translated in one place and no inline script or style is needed.
 */

export function statusBlock(status: PublicStatus, lang: PageLanguage): RawHtml {
  const w = words[lang];
  const item = (ok: boolean, yes: string, no: string, name: string) =>
    html`<li class="status ${ok ? 'ok' : 'warn'}" data-status="${name}">${ok ? yes : no}</li>`;
  const assistant =
    status.assistant_status === 'failed'
      ? html`<li class="status warn" data-status="assistant">${w.failed}</li>`
      : item(status.assistant_ready, w.ready, w.notReady, 'assistant');
  return html`<ul class="status-list" id="public-status" aria-live="polite">
${item(status.active, w.active, w.inactive, 'active')}
<li class="status info" data-status="channel">${w.channel[status.channel]}</li>
${item(status.connected, w.connected, w.disconnected, 'connected')}
${assistant}
</ul>`;
}

/** The words landing.js needs for what it writes itself (status refresh, messages, lists). */
const scriptWords = (w: Words) => ({
  active: w.active,
  inactive: w.inactive,
  connected: w.connected,
  disconnected: w.disconnected,
  ready: w.ready,
  notReady: w.notReady,
  failed: w.failed,
  channel: w.channel,
  inviteWorking: w.inviteWorking,
  copied: w.copied,
  copyFallback: w.copyFallback,
  signingIn: w.signingIn,
  signIn: w.signIn,
  signedOut: w.signedOut,
  sessionEnded: w.sessionEnded,
  otherTenant: w.otherTenant,
  assistantPending: w.assistantPending,
  assistantReady: w.assistantReady,
  assistantFailed: w.assistantFailed,
  saved: w.saved,
  nothingToSave: w.nothingToSave,
  question: w.question,
  answer: w.answer,
  faqNumber: w.faqNumber,
  removeFaq: w.removeFaq,
  secretStored: w.secretStored,
  secretNotStored: w.secretNotStored,
  testing: w.testing,
  testConnection: w.testConnection,
  testOk: w.testOk,
  testFailed: w.testFailed,
  checkOk: w.checkOk,
  checkFailed: w.checkFailed,
  checkNames: w.checkNames,
  noConversations: w.noConversations,
  lastActivity: w.lastActivity,
  messagesHeading: w.messagesHeading,
  customer: w.customer,
  assistant: w.assistant,
  noMessages: w.noMessages,
  handoffPerson: w.handoffPerson,
  handoffPersonOpen: w.handoffPersonOpen,
  handoffRequested: w.handoffRequested,
  handoffRequestedUntil: w.handoffRequestedUntil,
  takeOver: w.takeOver,
  takeOverLabel: w.takeOverLabel,
  release: w.release,
  releaseLabel: w.releaseLabel,
  tookOver: w.tookOver,
  released: w.released,
  templateNone: w.templateNone,
  never: w.never,
  thisSession: w.thisSession,
  revoke: w.revoke,
  revoked: w.revoked,
  qrPanel: {
    working: w.qrPanel.working,
    unlinked: w.qrPanel.unlinked,
    started: w.qrPanel.started,
  },
  error: w.error,
  networkError: w.networkError,
  languages: w.languages,
});

const formStatus = (id: string) =>
  html`<p class="form-status" id="${id}" role="status" aria-live="polite"></p>`;

function panel(w: Words, qrModeAvailable: boolean): RawHtml {
  return html`<section id="tenant-panel" class="panel" aria-labelledby="panel-heading" hidden>
<div class="panel-head">
<h2 id="panel-heading">${w.panelHeading}</h2>
<button type="button" id="sign-out" class="secondary">${w.signOut}</button>
</div>
<p class="hint">${w.panelHint}</p>
<div class="card assistant-card">
<h3 id="assistant-heading">${w.assistantLabel}</h3>
<p id="assistant-state" class="assistant-state" role="status" aria-live="polite"></p>
</div>
${
  qrModeAvailable
    ? html`<div id="qr-panel-slot" aria-live="polite" hidden></div>
${formStatus('qr-status')}`
    : ''
}

<form id="settings-form" class="card" novalidate aria-labelledby="settings-heading">
<h3 id="settings-heading">${w.settingsHeading}</h3>
<label for="welcome-message">${w.welcomeLabel}</label>
<textarea id="welcome-message" name="welcome_message" data-field="welcome_message" maxlength="1000" aria-describedby="welcome-hint"></textarea>
<p class="hint" id="welcome-hint">${w.welcomeHint}</p>
<label for="business-hours">${w.hoursLabel}</label>
<textarea id="business-hours" name="business_hours" data-field="business_hours" maxlength="500" class="short"></textarea>
<label for="language">${w.languageLabel}</label>
<select id="language" name="language" data-field="language">
<option value="es">${w.languages.es}</option>
<option value="en">${w.languages.en}</option>
</select>
<div class="check-row">
<input type="checkbox" id="bot-enabled" name="bot_enabled" data-field="bot_enabled" aria-describedby="bot-hint">
<label for="bot-enabled">${w.botLabel}</label>
</div>
<p class="hint" id="bot-hint">${w.botHint}</p>
<fieldset class="conversation-settings">
<legend>${w.conversationLegend}</legend>
<label for="reply-delay">${w.replyDelayLabel}</label>
<input type="number" id="reply-delay" name="reply_delay_seconds" data-field="reply_delay_seconds" min="0" max="30" step="1" inputmode="numeric" class="number" aria-describedby="reply-delay-hint">
<p class="hint" id="reply-delay-hint">${w.replyDelayHint}</p>
<label for="handoff-minutes">${w.handoffLabel}</label>
<input type="number" id="handoff-minutes" name="handoff_minutes" data-field="handoff_minutes" min="1" max="10080" step="1" inputmode="numeric" class="number" aria-describedby="handoff-hint">
<p class="hint" id="handoff-hint">${w.handoffHint}</p>
<label for="audio-max-seconds">${w.audioMaxLabel}</label>
<input type="number" id="audio-max-seconds" name="audio_max_seconds" data-field="audio_max_seconds" min="5" max="900" step="1" inputmode="numeric" class="number" aria-describedby="audio-max-hint">
<p class="hint" id="audio-max-hint">${w.audioMaxHint}</p>
</fieldset>
<button type="submit">${w.save}</button>
${formStatus('settings-status')}
</form>

<form id="faqs-form" class="card" novalidate aria-labelledby="faqs-heading">
<h3 id="faqs-heading">${w.faqsHeading}</h3>
<p class="hint">${w.faqsHint}</p>
<ol id="faq-list" class="faq-list"></ol>
<button type="button" id="add-faq" class="secondary">${w.addFaq}</button>
<button type="submit">${w.saveFaqs}</button>
${formStatus('faqs-status')}
</form>

<form id="channel-form" class="card" novalidate aria-labelledby="channel-heading">
<h3 id="channel-heading">${w.channelHeading}</h3>
<fieldset>
<legend>${w.channelLegend}</legend>
<div class="check-row">
<input type="radio" id="channel-cloud" name="channel" value="cloud_api" data-field="channel">
<label for="channel-cloud">${w.channelCloud}</label>
</div>
<div class="check-row">
<input type="radio" id="channel-qr" name="channel" value="qr" aria-describedby="${qrModeAvailable ? 'qr-warning' : 'qr-warning qr-unavailable'}">
<label for="channel-qr">${w.channelQr}</label>
</div>
</fieldset>
<p class="warning" id="qr-warning">${w.qrWarning}</p>
${qrModeAvailable ? '' : html`<p class="hint" id="qr-unavailable">${w.qrUnavailable}</p>`}
<button type="submit">${w.saveChannel}</button>
${formStatus('channel-status')}
</form>

<form id="cloud-form" class="card" novalidate aria-labelledby="cloud-heading">
<h3 id="cloud-heading">${w.cloudHeading}</h3>
<label for="whatsapp-token">${w.tokenLabel}</label>
<input type="password" id="whatsapp-token" name="whatsapp_access_token" data-field="whatsapp_access_token" autocomplete="off" aria-describedby="token-hint token-stored">
<p class="hint"><span id="token-hint">${w.secretHint}</span> <span id="token-stored"></span></p>
<label for="waba-id">${w.wabaLabel}</label>
<input type="text" id="waba-id" name="waba_id" data-field="waba_id" inputmode="numeric" autocomplete="off" aria-describedby="waba-hint">
<p class="hint" id="waba-hint">${w.wabaHint}</p>
<button type="submit">${w.save}</button>
<button type="button" id="remove-token" class="danger" hidden>${w.removeToken}</button>
<button type="button" id="test-connection" class="secondary">${w.testConnection}</button>
${formStatus('cloud-status')}
<ul id="connection-checks" class="checks" aria-live="polite"></ul>
</form>

<form id="template-form" class="card" novalidate aria-labelledby="template-heading" aria-describedby="template-hint">
<h3 id="template-heading">${w.templateHeading}</h3>
<p class="hint" id="template-hint">${w.templateHint}</p>
<div id="template-choice" hidden>
<label for="template-select">${w.templateSelectLabel}</label>
<select id="template-select" name="window_template" data-field="window_template" aria-describedby="template-none-approved"></select>
<p class="hint" id="template-none-approved" hidden>${w.templateNoneApproved}</p>
</div>
<div id="template-typed">
<p class="hint" id="template-unavailable"></p>
<label for="template-name">${w.templateNameLabel}</label>
<input type="text" id="template-name" name="window_template_name" data-field="window_template.name" autocomplete="off" spellcheck="false" aria-describedby="template-name-hint">
<p class="hint" id="template-name-hint">${w.templateNameHint}</p>
<label for="template-language">${w.templateLanguageLabel}</label>
<input type="text" id="template-language" name="window_template_language" data-field="window_template.language" autocomplete="off" spellcheck="false" class="short-input" aria-describedby="template-language-hint">
<p class="hint" id="template-language-hint">${w.templateLanguageHint}</p>
</div>
<button type="submit">${w.saveTemplate}</button>
${formStatus('template-status')}
</form>

<form id="openai-form" class="card" novalidate aria-labelledby="openai-heading">
<h3 id="openai-heading">${w.openaiHeading}</h3>
<label for="openai-key">${w.openaiKeyLabel}</label>
<input type="password" id="openai-key" name="openai_api_key" data-field="openai_api_key" autocomplete="off" aria-describedby="openai-hint openai-stored">
<p class="hint"><span id="openai-hint">${w.secretHint}</span> <span id="openai-stored"></span></p>
<label for="openai-model">${w.modelLabel}</label>
<input type="text" id="openai-model" name="openai_model" data-field="openai_model" autocomplete="off">
<button type="submit">${w.save}</button>
<button type="button" id="remove-openai-key" class="danger" hidden>${w.removeOpenaiKey}</button>
${formStatus('openai-status')}
</form>

<section class="card" aria-labelledby="conversations-heading">
<h3 id="conversations-heading">${w.conversationsHeading}</h3>
<button type="button" id="refresh-conversations" class="secondary">${w.refresh}</button>
${formStatus('conversations-status')}
<ul id="conversation-list" class="conversation-list"></ul>
<div id="messages" class="messages" hidden>
<h4 id="messages-heading" tabindex="-1"></h4>
<ol id="message-list" class="message-list"></ol>
</div>
</section>

<section class="card" aria-labelledby="keys-heading">
<h3 id="keys-heading">${w.keysHeading}</h3>
<p class="hint">${w.keysHint}</p>
<div class="table-wrap">
<table>
<thead><tr><th scope="col">${w.keyPrefix}</th><th scope="col">${w.created}</th><th scope="col">${w.lastUsed}</th><th scope="col">${w.actions}</th></tr></thead>
<tbody id="key-list"></tbody>
</table>
</div>
<button type="button" id="create-key">${w.newKey}</button>
${formStatus('keys-status')}
</section>
</section>`;
}

export function landingPage(input: {
  slug: string;
  status: PublicStatus;
  qrModeAvailable?: boolean;
}): RawHtml {
  const qrModeAvailable = input.qrModeAvailable === true;
  const lang: PageLanguage = input.status.language === 'en' ? 'en' : 'es';
  const w = words[lang];
  return page({
    title: input.status.name,
    lang,
    scripts: ['landing.js'],
    styles: ['landing.css'],
    body: html`<main id="landing" data-slug="${input.slug}" data-lang="${lang}" data-qr-mode="${qrModeAvailable ? 'available' : 'unavailable'}" data-i18n="${JSON.stringify(scriptWords(w))}">
<header class="landing-header">
<p class="tagline">${w.tagline}</p>
<h1>${input.status.name}</h1>
</header>
<section class="card" aria-labelledby="status-heading">
<h2 id="status-heading">${w.statusHeading}</h2>
${statusBlock(input.status, lang)}
<p class="hint">${w.statusHint}</p>
</section>
<p id="page-message" class="page-message" role="status" aria-live="polite"></p>
<p id="page-error" class="error page-error" role="alert"></p>

<section id="invite" class="card" aria-labelledby="invite-heading" hidden>
<h2 id="invite-heading">${w.inviteHeading}</h2>
<p>${w.inviteText}</p>
<button type="button" id="invite-accept">${w.inviteAccept}</button>
</section>

<section id="key-once" class="card key-once" aria-labelledby="key-heading" hidden>
<h2 id="key-heading">${w.keyHeading}</h2>
<p class="warning" id="key-warning">${w.keyWarning}</p>
<p class="key-label" id="key-label">${w.keyLabel}</p>
<code id="key-value" class="key-value"></code>
<button type="button" id="copy-key">${w.copy}</button>
<button type="button" id="key-stored" class="secondary">${w.keyStored}</button>
<p id="copy-status" role="status" aria-live="polite"></p>
</section>

<section id="sign-in" class="card" aria-labelledby="sign-in-heading" hidden>
<h2 id="sign-in-heading">${w.signInHeading}</h2>
<p class="hint">${w.signInHint}</p>
<form id="sign-in-form" novalidate>
<label for="sign-in-key">${w.keyLabel}</label>
<input type="password" id="sign-in-key" name="key" autocomplete="off" required spellcheck="false" aria-describedby="sign-in-error">
<p id="sign-in-error" class="error" aria-live="assertive"></p>
<button type="submit" id="sign-in-button">${w.signIn}</button>
</form>
</section>

${panel(w, qrModeAvailable)}
</main>`,
  });
}

export function notFoundPage(lang: PageLanguage): RawHtml {
  const w = words[lang];
  return page({
    title: w.notFoundTitle,
    lang,
    body: html`<main><h1>${w.notFoundTitle}</h1><p>${w.notFound}</p></main>`,
  });
}
