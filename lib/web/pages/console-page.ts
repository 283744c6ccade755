import { html, page, type RawHtml } from '../html.ts';
import type { PageLanguage } from '../i18n.ts';

/**
 * The operator console, `/console`. Its markup (labels, headings, empty tables and forms, no data)
 * is rendered here; console.js signs in (the operator key for a session cookie), fills it from the
 * operator API with the session cookie, and calls the same routes curl does for every action. Words
 * the script needs travel in `data-i18n`; no inline script or style anywhere.
 */

const words = {
  es: {
    title: 'Consola del operador',
    tagline: 'Asistente de WhatsApp para negocios',
    signInHeading: 'Entrar en la consola',
    signInHint: 'Entra con la clave del operador (OPERATOR_API_KEY). No se guarda en el navegador.',
    keyLabel: 'Clave del operador',
    signIn: 'Entrar',
    signOut: 'Cerrar sesión',
    signedInAs: 'Sesión de operador',
    summaryHeading: 'Resumen',
    totalClients: 'Clientes',
    totalActive: 'Activos',
    totalConnected: 'Conectados',
    totalMessages: 'Mensajes (24 h)',
    chartHeading: 'Actividad de los últimos 14 días',
    chartAlt:
      'Gráfico de barras: mensajes recibidos y respondidos por día en los últimos 14 días, y quién respondió (OpenAI, respuestas frecuentes, respaldo, rechazados).',
    clientsHeading: 'Clientes',
    search: 'Buscar por nombre o número',
    filterActive: 'Estado',
    filterConnected: 'Conexión',
    all: 'Todos',
    onlyActive: 'Activos',
    onlyInactive: 'Desactivados',
    onlyConnected: 'Conectados',
    onlyDisconnected: 'Sin conectar',
    refresh: 'Actualizar',
    newClient: 'Nuevo cliente',
    tableCaption: 'Clientes con su estado y sus mensajes de las últimas 24 horas',
    columns: [
      'Nombre',
      'Número',
      'Canal',
      'Activo',
      'Conexión',
      'Asistente',
      'Invitación',
      'Mensajes 24 h',
      'Respuestas 24 h',
      'Tasa de respaldo',
      'Último mensaje',
      'Acciones',
    ],
    formCreate: 'Nuevo cliente',
    name: 'Nombre del negocio',
    phone: 'Número de WhatsApp (E.164, p. ej. +34666777888)',
    phoneId: 'Id del número en Meta (phone_number_id)',
    email: 'Correo electrónico del negocio',
    emailHint: 'Si lo indicas, se le envía una invitación a su página.',
    language: 'Idioma',
    welcome: 'Mensaje de bienvenida (opcional)',
    hours: 'Horario de atención (opcional)',
    bot: 'Respuestas automáticas activadas',
    faqs: 'Preguntas frecuentes',
    faqsHint: 'Al menos una. El asistente responde con ellas.',
    addFaq: 'Añadir una pregunta',
    create: 'Crear cliente',
    cancel: 'Cancelar',
    detailsHeading: 'Cliente',
    actionsHeading: 'Acciones',
    edit: 'Editar',
    resend: 'Reenviar la invitación',
    test: 'Probar la conexión',
    purge: 'Ejecutar la purga de este cliente',
    close: 'Cerrar',
    keysHeading: 'Claves de API del negocio',
    issueKey: 'Emitir una clave',
    newKeyLabel: 'Clave nueva (solo se muestra ahora)',
    newKeyHint: 'Cópiala y dásela al negocio por un canal seguro: no se podrá ver otra vez.',
    copy: 'Copiar',
    keyStored: 'Ya la he copiado',
    connectionHeading: 'Prueba de conexión',
    conversationsHeading: 'Conversaciones',
    loadConversations: 'Ver las conversaciones',
    messagesHeading: 'Mensajes',
  },
  en: {
    title: 'Operator console',
    tagline: 'WhatsApp assistant for businesses',
    signInHeading: 'Sign in to the console',
    signInHint: 'Sign in with the operator key (OPERATOR_API_KEY). It is not stored in the browser.',
    keyLabel: 'Operator key',
    signIn: 'Sign in',
    signOut: 'Sign out',
    signedInAs: 'Operator session',
    summaryHeading: 'Summary',
    totalClients: 'Clients',
    totalActive: 'Active',
    totalConnected: 'Connected',
    totalMessages: 'Messages (24 h)',
    chartHeading: 'Activity over the last 14 days',
    chartAlt:
      'Bar chart: messages received and answered per day over the last 14 days, and who answered (OpenAI, FAQ responder, fallback, declined).',
    clientsHeading: 'Clients',
    search: 'Search by name or number',
    filterActive: 'State',
    filterConnected: 'Connection',
    all: 'All',
    onlyActive: 'Active',
    onlyInactive: 'Deactivated',
    onlyConnected: 'Connected',
    onlyDisconnected: 'Not connected',
    refresh: 'Refresh',
    newClient: 'New client',
    tableCaption: 'Clients with their state and their messages of the last 24 hours',
    columns: [
      'Name',
      'Number',
      'Channel',
      'Active',
      'Connection',
      'Assistant',
      'Invitation',
      'Messages 24 h',
      'Answers 24 h',
      'Fallback rate',
      'Last message',
      'Actions',
    ],
    formCreate: 'New client',
    name: 'Business name',
    phone: 'WhatsApp number (E.164, e.g. +34666777888)',
    phoneId: "The number's id at Meta (phone_number_id)",
    email: "The business's e-mail",
    emailHint: 'When given, an invitation to its page is sent there.',
    language: 'Language',
    welcome: 'Welcome message (optional)',
    hours: 'Business hours (optional)',
    bot: 'Automatic replies on',
    faqs: 'Frequently asked questions',
    faqsHint: 'At least one. The assistant answers with them.',
    addFaq: 'Add a question',
    create: 'Create client',
    cancel: 'Cancel',
    detailsHeading: 'Client',
    actionsHeading: 'Actions',
    edit: 'Edit',
    resend: 'Resend the invitation',
    test: 'Test the connection',
    purge: "Run this client's purge",
    close: 'Close',
    keysHeading: "The business's API keys",
    issueKey: 'Issue a key',
    newKeyLabel: 'New key (shown only now)',
    newKeyHint: 'Copy it and give it to the business over a safe channel: it cannot be seen again.',
    copy: 'Copy',
    keyStored: 'I have copied it',
    connectionHeading: 'Connection test',
    conversationsHeading: 'Conversations',
    loadConversations: 'Show the conversations',
    messagesHeading: 'Messages',
  },
} as const;

/** Words console.js writes itself (states, confirmations, outcomes); `{name}` is filled in. */
const scriptWords = {
  es: {
    yes: 'Sí',
    no: 'No',
    none: '—',
    channel: { cloud_api: 'Cloud API', qr: 'QR' },
    connection: {
      connected: 'Conectado',
      credentials_invalid: 'Credenciales no válidas',
      sending_paused: 'Envío pausado',
      qr_not_linked: 'QR sin vincular',
    },
    assistant: { pending: 'Preparándose', ready: 'Listo', failed: 'Falló' },
    invitation: { sent: 'Enviada', failed: 'Falló', not_requested: 'Sin invitar' },
    activeState: 'Activo',
    inactiveState: 'Desactivado',
    open: 'Gestionar',
    openLabel: 'Gestionar {name}',
    deactivate: 'Desactivar',
    deactivateLabel: 'Desactivar {name}',
    reactivate: 'Reactivar',
    reactivateLabel: 'Reactivar {name}',
    confirmDeactivate: '¿Desactivar {name}? Dejará de responder a sus clientes (se puede reactivar).',
    confirmErase:
      '¿Borrar todos los mensajes y la conversación de {name}? Es el derecho de supresión y no se puede deshacer.',
    confirmPurge: '¿Ejecutar ahora la purga de retención de {name}?',
    confirmRevoke: '¿Revocar la clave {name}? Dejará de funcionar al momento.',
    deactivated: '{name} se ha desactivado.',
    reactivated: '{name} se ha reactivado.',
    created: 'Cliente {name} creado.',
    createdInvited: 'Cliente {name} creado; invitación enviada a {email}.',
    createdInviteFailed: 'Cliente {name} creado, pero la invitación no se pudo enviar: {reason}',
    saved: 'Cambios de {name} guardados.',
    noChanges: 'No hay cambios que guardar.',
    editHeading: 'Editar {name}',
    save: 'Guardar cambios',
    create: 'Crear cliente',
    createHeading: 'Nuevo cliente',
    invitationSent: 'Invitación enviada a {email}.',
    keyRevoked: 'Clave revocada.',
    noKeys: 'No tiene claves activas.',
    keyCreated: 'Creada',
    keyLastUsed: 'Último uso',
    never: 'nunca',
    revoke: 'Revocar',
    revokeLabel: 'Revocar clave {name}',
    copied: 'Clave copiada.',
    copyFailed: 'No se pudo copiar: selecciona la clave y cópiala a mano.',
    testing: 'Probando la conexión…',
    testOk: 'La conexión funciona.',
    testFailed: 'La conexión tiene problemas:',
    checkOk: 'Correcto',
    checkFailed: 'Falla',
    purgeDone: 'Purga terminada: {messages} mensajes y {conversations} conversaciones borrados{incomplete}.',
    purgeIncomplete: ' (no terminó: ejecútala otra vez para seguir)',
    noConversations: 'Todavía no hay conversaciones.',
    lastActivity: 'Última actividad',
    botPaused: 'bot en pausa',
    messagesOf: 'Mensajes de {name}',
    showMessages: 'Ver mensajes',
    showMessagesLabel: 'Ver mensajes de {name}',
    erase: 'Borrar cliente final',
    eraseLabel: 'Borrar cliente final: {name}',
    erased: 'Datos de {name} borrados: {messages} mensajes.',
    noMessages: 'No hay mensajes.',
    inbound: 'Cliente',
    outbound: 'Asistente',
    noText: '(sin texto)',
    loading: 'Cargando…',
    noClients: 'Todavía no hay clientes. Crea el primero con «Nuevo cliente».',
    noMatches: 'Ningún cliente coincide con la búsqueda.',
    shown: 'Se muestran {shown} de {total} clientes.',
    signedOut: 'Has cerrado la sesión.',
    sessionEnded: 'La sesión ha terminado: vuelve a entrar.',
    tenantRefused:
      'Esa clave es de un negocio: la consola es solo para el operador. Los negocios entran desde su propia página.',
    error: 'No se pudo completar',
    networkError: 'No se pudo contactar con el servidor. Revisa la conexión.',
    fieldsHaveErrors: 'Revisa los campos marcados.',
    chartSummary:
      'Mensajes recibidos en 14 días: {received}; respondidos: {answered}. Respondidos por OpenAI {openai}, por las respuestas frecuentes {faq}, por el respaldo {fallback}; rechazados {declined}.',
    chartEmpty: 'En 14 días no ha llegado ningún mensaje.',
    question: 'Pregunta',
    answer: 'Respuesta',
    faqLegend: 'Pregunta {n}',
    removeFaq: 'Quitar la pregunta {n}',
    details: 'Datos',
    id: 'Id',
    landing: 'Página del negocio',
    email: 'Correo',
    invitationLabel: 'Invitación',
    connectionLabel: 'Conexión',
    assistantLabel: 'Asistente',
  },
  en: {
    yes: 'Yes',
    no: 'No',
    none: '—',
    channel: { cloud_api: 'Cloud API', qr: 'QR' },
    connection: {
      connected: 'Connected',
      credentials_invalid: 'Credentials invalid',
      sending_paused: 'Sending paused',
      qr_not_linked: 'QR not linked',
    },
    assistant: { pending: 'Getting ready', ready: 'Ready', failed: 'Failed' },
    invitation: { sent: 'Sent', failed: 'Failed', not_requested: 'Not invited' },
    activeState: 'Active',
    inactiveState: 'Deactivated',
    open: 'Manage',
    openLabel: 'Manage {name}',
    deactivate: 'Deactivate',
    deactivateLabel: 'Deactivate {name}',
    reactivate: 'Reactivate',
    reactivateLabel: 'Reactivate {name}',
    confirmDeactivate: 'Deactivate {name}? It stops answering its customers (it can be reactivated).',
    confirmErase:
      "Erase every message and the conversation of {name}? This is the customer's right to erasure and cannot be undone.",
    confirmPurge: "Run {name}'s retention purge now?",
    confirmRevoke: 'Revoke the key {name}? It stops working at once.',
    deactivated: '{name} was deactivated.',
    reactivated: '{name} was reactivated.',
    created: 'Client {name} created.',
    createdInvited: 'Client {name} created; invitation sent to {email}.',
    createdInviteFailed: 'Client {name} created, but the invitation could not be sent: {reason}',
    saved: "{name}'s changes saved.",
    noChanges: 'Nothing to save.',
    editHeading: 'Edit {name}',
    save: 'Save changes',
    create: 'Create client',
    createHeading: 'New client',
    invitationSent: 'Invitation sent to {email}.',
    keyRevoked: 'Key revoked.',
    noKeys: 'No active keys.',
    keyCreated: 'Created',
    keyLastUsed: 'Last used',
    never: 'never',
    revoke: 'Revoke',
    revokeLabel: 'Revoke key {name}',
    copied: 'Key copied.',
    copyFailed: 'Could not copy: select the key and copy it by hand.',
    testing: 'Testing the connection…',
    testOk: 'The connection works.',
    testFailed: 'The connection has problems:',
    checkOk: 'OK',
    checkFailed: 'Failing',
    purgeDone: 'Purge finished: {messages} messages and {conversations} conversations deleted{incomplete}.',
    purgeIncomplete: ' (not complete: run it again to go on)',
    noConversations: 'No conversations yet.',
    lastActivity: 'Last activity',
    botPaused: 'bot paused',
    messagesOf: 'Messages of {name}',
    showMessages: 'Show messages',
    showMessagesLabel: 'Show messages of {name}',
    erase: 'Erase customer',
    eraseLabel: 'Erase customer: {name}',
    erased: 'Data of {name} erased: {messages} messages.',
    noMessages: 'No messages.',
    inbound: 'Customer',
    outbound: 'Assistant',
    noText: '(no text)',
    loading: 'Loading…',
    noClients: 'No clients yet. Create the first with “New client”.',
    noMatches: 'No client matches the search.',
    shown: 'Showing {shown} of {total} clients.',
    signedOut: 'You have signed out.',
    sessionEnded: 'The session has ended: sign in again.',
    tenantRefused:
      "That key is a business's: the console is for the operator only. Businesses sign in on their own page.",
    error: 'Could not be done',
    networkError: 'Could not reach the server. Check the connection.',
    fieldsHaveErrors: 'Check the marked fields.',
    chartSummary:
      'Messages received in 14 days: {received}; answered: {answered}. Answered by OpenAI {openai}, by the FAQ responder {faq}, by the fallback {fallback}; declined {declined}.',
    chartEmpty: 'No message arrived in 14 days.',
    question: 'Question',
    answer: 'Answer',
    faqLegend: 'Question {n}',
    removeFaq: 'Remove question {n}',
    details: 'Details',
    id: 'Id',
    landing: "Business's page",
    email: 'E-mail',
    invitationLabel: 'Invitation',
    connectionLabel: 'Connection',
    assistantLabel: 'Assistant',
  },
} as const;

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
