import { html, page, type RawHtml } from '../html.ts';
import type { PageLanguage } from '../i18n.ts';
import { consoleScriptWords as scriptWords, consoleWords as words } from './console-words.ts';

/**
 * The operator console, `/console`. Its markup (labels, headings, empty tables and forms, no data)
 * is rendered here; console.js signs in (the operator key for a session cookie), fills it from the
 * operator API with the session cookie, and calls the same routes curl does for every action. Words
 * the script needs travel in `data-i18n`; no inline script or style anywhere.
 */

const field = (id: string, label: string, input: RawHtml, hint?: string) => html`<div class="field">
<label for="${id}">${label}</label>
${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
${input}
<p class="field-error" id="${id}-error" hidden></p>
</div>`;

export function consolePage(input: { lang: PageLanguage }): RawHtml {
  const w = words[input.lang];
  const text = (id: string, name: string, attrs: RawHtml = html``) =>
    html`<input id="${id}" name="${name}" data-field="${name}" type="text" aria-describedby="${id}-error" ${attrs}>`;
  const number = (id: string, name: string, min: number, max: number) =>
    html`<input id="${id}" name="${name}" data-field="${name}" type="number" min="${String(min)}" max="${String(max)}" step="1" inputmode="numeric" aria-describedby="${id}-hint ${id}-error">`;
  return page({
    title: w.title,
    lang: input.lang,
    scripts: ['console.js'],
    styles: ['console.css'],
    body: html`<header class="console-header">
<div class="console-header-inner">
<div>
<p class="console-tagline">${w.tagline}</p>
<h1>${w.title}</h1>
</div>
<div id="session-bar" class="session-bar" hidden>
<span class="status ok">${w.signedInAs}</span>
<button type="button" id="sign-out" class="secondary">${w.signOut}</button>
</div>
</div>
</header>
<main id="console" data-lang="${input.lang}" data-i18n="${JSON.stringify(scriptWords[input.lang])}">
<div id="notice" class="notice" role="status" aria-live="polite"></div>
<div id="alert" class="alert error" role="alert"></div>

<section id="sign-in" class="card sign-in" aria-labelledby="sign-in-heading">
<h2 id="sign-in-heading">${w.signInHeading}</h2>
<p class="hint">${w.signInHint}</p>
<form id="sign-in-form" novalidate>
<label for="operator-key">${w.keyLabel}</label>
<input id="operator-key" name="key" type="password" autocomplete="current-password" required aria-describedby="operator-key-error">
<p class="field-error" id="operator-key-error" hidden></p>
<button type="submit">${w.signIn}</button>
</form>
</section>

<div id="workspace" hidden>
<section aria-labelledby="summary-heading">
<h2 id="summary-heading" class="visually-hidden">${w.summaryHeading}</h2>
<ul class="totals">
<li><span class="total-value" id="total-clients">0</span> <span class="total-label">${w.totalClients}</span></li>
<li><span class="total-value" id="total-active">0</span> <span class="total-label">${w.totalActive}</span></li>
<li><span class="total-value" id="total-connected">0</span> <span class="total-label">${w.totalConnected}</span></li>
<li><span class="total-value" id="total-messages">0</span> <span class="total-label">${w.totalMessages}</span></li>
</ul>
</section>

<section class="card" aria-labelledby="chart-heading">
<h2 id="chart-heading">${w.chartHeading}</h2>
<img id="chart" class="chart" alt="${w.chartAlt}" width="720" height="400" hidden>
<p id="chart-summary" class="hint"></p>
</section>

<section aria-labelledby="clients-heading">
<div class="section-head">
<h2 id="clients-heading">${w.clientsHeading}</h2>
<button type="button" id="new-client">${w.newClient}</button>
</div>
<div class="toolbar" role="search">
<div class="toolbar-item grow"><label for="search">${w.search}</label><input id="search" type="search" autocomplete="off"></div>
<div class="toolbar-item"><label for="filter-active">${w.filterActive}</label>
<select id="filter-active"><option value="">${w.all}</option><option value="active">${w.onlyActive}</option><option value="inactive">${w.onlyInactive}</option></select></div>
<div class="toolbar-item"><label for="filter-connected">${w.filterConnected}</label>
<select id="filter-connected"><option value="">${w.all}</option><option value="connected">${w.onlyConnected}</option><option value="disconnected">${w.onlyDisconnected}</option></select></div>
<div class="toolbar-item"><button type="button" id="refresh" class="secondary">${w.refresh}</button></div>
</div>
<p id="table-status" class="hint" role="status" aria-live="polite"></p>
<div class="table-wrap" role="region" aria-labelledby="clients-heading" tabindex="0">
<table id="clients-table">
<caption class="visually-hidden">${w.tableCaption}</caption>
<thead><tr>${w.columns.map((column) => html`<th scope="col">${column}</th>`)}</tr></thead>
<tbody id="clients-body"></tbody>
</table>
</div>
</section>

<section id="client-form-section" class="card" aria-labelledby="client-form-heading" hidden>
<h2 id="client-form-heading" tabindex="-1">${w.formCreate}</h2>
<form id="client-form" novalidate>
<p class="form-error error" id="client-form-error" hidden></p>
<div class="form-grid">
${field('f-name', w.name, text('f-name', 'name', html`required autocomplete="organization"`))}
${field('f-phone_number', w.phone, text('f-phone_number', 'phone_number', html`required inputmode="tel" autocomplete="off"`))}
${field('f-phone_number_id', w.phoneId, text('f-phone_number_id', 'phone_number_id', html`required inputmode="numeric" autocomplete="off"`))}
${field(
  'f-email',
  w.email,
  html`<input id="f-email" name="email" data-field="email" type="email" autocomplete="email" aria-describedby="f-email-hint f-email-error">`,
  w.emailHint,
)}
${field(
  'f-language',
  w.language,
  html`<select id="f-language" name="language" data-field="language" aria-describedby="f-language-error"><option value="es">Español</option><option value="en">English</option></select>`,
)}
${field('f-business_hours', w.hours, text('f-business_hours', 'business_hours'))}
${field('f-reply_delay_seconds', w.replyDelay, number('f-reply_delay_seconds', 'reply_delay_seconds', 0, 30), w.replyDelayHint)}
${field('f-handoff_minutes', w.handoffMinutes, number('f-handoff_minutes', 'handoff_minutes', 1, 10080), w.handoffMinutesHint)}
${field('f-media_daily_limit', w.mediaDailyLimit, number('f-media_daily_limit', 'media_daily_limit', 0, 100000), w.mediaDailyLimitHint)}
${field('f-audio_max_seconds', w.audioMaxSeconds, number('f-audio_max_seconds', 'audio_max_seconds', 5, 900), w.audioMaxSecondsHint)}
</div>
${field(
  'f-welcome_message',
  w.welcome,
  html`<textarea id="f-welcome_message" name="welcome_message" data-field="welcome_message" aria-describedby="f-welcome_message-error"></textarea>`,
)}
<div class="checkbox"><input id="f-bot_enabled" name="bot_enabled" data-field="bot_enabled" type="checkbox" checked><label for="f-bot_enabled">${w.bot}</label></div>
<fieldset class="faqs" aria-describedby="faqs-hint faqs-error">
<legend>${w.faqs}</legend>
<p class="hint" id="faqs-hint">${w.faqsHint}</p>
<p class="field-error" id="faqs-error" hidden></p>
<div id="faq-rows"></div>
<button type="button" id="add-faq" class="secondary">${w.addFaq}</button>
</fieldset>
<div class="form-actions">
<button type="submit" id="client-form-submit">${w.create}</button>
<button type="button" id="client-form-cancel" class="secondary">${w.cancel}</button>
</div>
</form>
</section>

<section id="details" class="card" aria-labelledby="details-heading" hidden>
<div class="section-head">
<h2 id="details-heading" tabindex="-1">${w.detailsHeading}</h2>
<button type="button" id="details-close" class="secondary">${w.close}</button>
</div>
<dl id="details-facts" class="facts"></dl>
<h3>${w.actionsHeading}</h3>
<div class="actions">
<button type="button" id="action-edit" class="secondary">${w.edit}</button>
<button type="button" id="action-active" class="secondary"></button>
<button type="button" id="action-invite" class="secondary">${w.resend}</button>
<button type="button" id="action-test" class="secondary">${w.test}</button>
<button type="button" id="action-purge" class="danger">${w.purge}</button>
</div>
<p id="action-result" class="action-result" role="status" aria-live="polite"></p>
<ul id="connection-checks" class="checks" aria-label="${w.connectionHeading}" hidden></ul>

<h3>${w.keysHeading}</h3>
<div id="new-key" class="new-key" hidden>
<label for="new-key-value">${w.newKeyLabel}</label>
<p class="hint" id="new-key-hint">${w.newKeyHint}</p>
<input id="new-key-value" type="text" readonly aria-describedby="new-key-hint" autocomplete="off" spellcheck="false">
<button type="button" id="new-key-copy">${w.copy}</button>
<button type="button" id="new-key-done" class="secondary">${w.keyStored}</button>
</div>
<ul id="keys-list" class="plain-list"></ul>
<button type="button" id="action-issue-key" class="secondary">${w.issueKey}</button>

<h3>${w.conversationsHeading}</h3>
<button type="button" id="load-conversations" class="secondary">${w.loadConversations}</button>
<ul id="conversations-list" class="plain-list"></ul>
<div id="messages" hidden>
<h4 id="messages-heading" tabindex="-1">${w.messagesHeading}</h4>
<ol id="messages-list" class="messages"></ol>
</div>
</section>
</div>
</main>`,
  });
}
