// The tenant's landing page (/client/{slug}): refreshes the public status every 10 s while the tab is
// visible, accepts an invitation link (?invite=…) and shows the new key once, signs the business in
// and out with its API key, and fills the panel from the /tenant routes with the session cookie.
// No key is ever stored by this script (no localStorage, no sessionStorage, no cookie of its own);
// the only key ever put in the page is the one-time display of a newly issued key.
(() => {
  const main = document.getElementById('landing');
  if (!main) return;
  const SLUG = main.dataset.slug;
  const LANG = main.dataset.lang === 'en' ? 'en' : 'es';
  const W = JSON.parse(main.dataset.i18n || '{}');
  const REFRESH_MS = 10_000;
  // QR mode runs on this deployment: a QR tenant's panel shows its QR panel, refreshed every 5 s.
  const QR_MODE = main.dataset.qrMode === 'available';
  const QR_REFRESH_MS = 5_000;

  const $ = (id) => document.getElementById(id);

  /** @type {{ csrf: string, keyId: string } | null} */
  let session = null;
  /** The tenant as GET /tenant last answered (only while signed in to this page's tenant). */
  let tenant = null;

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor(status, body) {
      super((body && typeof body.message === 'string' && body.message) || `${W.error} (${status})`);
      this.status = status;
      this.details = Array.isArray(body?.details) ? body.details : [];
    }
  }

  async function api(method, path, body) {
    const headers = { accept: 'application/json' };
    if (method !== 'GET') {
      headers['content-type'] = 'application/json';
      if (session) headers['x-csrf-token'] = session.csrf;
    }
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError(0, { message: W.networkError });
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  /** An API call of the panel: a 401 means the session ended, which sends the page back to sign-in. */
  async function tenantApi(method, path, body) {
    try {
      return await api(method, path, body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        showSignIn(W.sessionEnded);
      }
      throw error;
    }
  }

  // ---------------------------------------------------------------- small DOM helpers

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  const show = (node, visible) => {
    if (node) node.hidden = !visible;
  };

  const formatTime = (iso) => {
    if (!iso) return W.never;
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return date.toLocaleString(LANG === 'en' ? 'en-GB' : 'es-ES', { dateStyle: 'short', timeStyle: 'short' });
  };

  function setMessage(node, text, kind) {
    if (!node) return;
    node.textContent = text || '';
    node.classList.toggle('error', kind === 'error');
    node.classList.toggle('ok-text', kind === 'ok');
  }

  /** Clears a form's field errors. */
  function clearFieldErrors(form) {
    for (const node of form.querySelectorAll('.field-error')) node.remove();
    for (const field of form.querySelectorAll('[aria-invalid]')) {
      field.removeAttribute('aria-invalid');
      const described = (field.getAttribute('aria-describedby') || '')
        .split(' ')
        .filter((id) => id && !id.startsWith('err-'));
      if (described.length) field.setAttribute('aria-describedby', described.join(' '));
      else field.removeAttribute('aria-describedby');
    }
  }

  /**
   * The input a detail's path names: the one of that path, else of its nearest parent path
   * (`window_template.name` on the template select), else the first of a child path
   * (`window_template` on the typed template name).
   */
  function fieldFor(form, path) {
    const parts = path.split('.');
    for (let n = parts.length; n > 0; n--) {
      const name = CSS.escape(parts.slice(0, n).join('.'));
      const field = form.querySelector(`[data-field="${name}"]:not([disabled])`);
      if (field && field.offsetParent !== null) return field;
    }
    for (const field of form.querySelectorAll(`[data-field^="${CSS.escape(`${path}.`)}"]`)) {
      if (field.offsetParent !== null) return field;
    }
    return null;
  }

  /** Shows an API error: its message in the form's status line, each detail next to its field. */
  function showError(form, statusNode, error) {
    if (form) clearFieldErrors(form);
    setMessage(statusNode, error.message, 'error');
    if (!form || !error.details) return;
    for (const detail of error.details) {
      const field = fieldFor(form, String(detail.field));
      if (!field) continue;
      const id = `err-${String(detail.field).replace(/[^\w-]/g, '-')}`;
      const note = el('p', { class: 'field-error error', id, text: detail.message });
      const anchor = field.closest('.check-row') || field;
      anchor.after(note);
      field.setAttribute('aria-invalid', 'true');
      const described = (field.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      field.setAttribute('aria-describedby', [...described, id].join(' '));
    }
  }

  /** Runs a form's action with its buttons disabled, showing the outcome in its status line. */
  async function busy(buttons, action) {
    for (const b of buttons) b.disabled = true;
    try {
      return await action();
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  // ---------------------------------------------------------------- public status, every 10 s

  let refreshTimer = null;

  function setStatusItem(name, ok, yes, no) {
    const item = document.querySelector(`#public-status [data-status="${name}"]`);
    if (!item) return;
    const text = ok ? yes : no;
    if (item.textContent !== text) item.textContent = text;
    item.classList.toggle('ok', ok);
    item.classList.toggle('warn', !ok);
  }

  function renderStatus(status) {
    setStatusItem('active', status.active, W.active, W.inactive);
    setStatusItem('connected', status.connected, W.connected, W.disconnected);
    setStatusItem(
      'assistant',
      status.assistant_ready,
      W.ready,
      status.assistant_status === 'failed' ? W.failed : W.notReady,
    );
    const channel = document.querySelector('#public-status [data-status="channel"]');
    const channelText = W.channel[status.channel] || status.channel;
    if (channel && channel.textContent !== channelText) channel.textContent = channelText;
    if (tenant) renderAssistant(status.assistant_status, tenant.assistant_status_reason);
  }

  async function refreshStatus() {
    try {
      const status = await api('GET', `/client/${encodeURIComponent(SLUG)}/status`);
      renderStatus(status);
    } catch {
      // A missed refresh is tried again at the next tick.
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (document.visibilityState !== 'visible') return;
    refreshTimer = setTimeout(async () => {
      await refreshStatus();
      scheduleRefresh();
    }, REFRESH_MS);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      refreshStatus();
      scheduleRefresh();
      if (qrWanted()) loadQrPanel();
    } else {
      clearTimeout(refreshTimer);
      refreshTimer = null;
      clearTimeout(qrTimer);
      qrTimer = null;
    }
  });

  // ---------------------------------------------------------------- the QR panel, every 5 s

  // The panel is rendered by the server (GET /client/{slug}/qr, for this tenant's session only: the
  // QR is drawn there as an SVG) and put in place here as it comes, parsed as an inert document (no
  // script of it runs; the CSP allows none anyway). Its buttons ask the tenant API.
  let qrTimer = null;
  let qrLoading = false;
  const qrSlot = () => $('qr-panel-slot');
  const qrWanted = () => QR_MODE && Boolean(qrSlot()) && tenant?.channel === 'qr';

  function stopQr() {
    clearTimeout(qrTimer);
    qrTimer = null;
    const slot = qrSlot();
    if (slot) {
      slot.replaceChildren();
      slot.hidden = true;
    }
    if ($('qr-status')) setMessage($('qr-status'), '');
  }

  function scheduleQr() {
    clearTimeout(qrTimer);
    qrTimer = null;
    if (!qrWanted() || document.visibilityState !== 'visible') return;
    qrTimer = setTimeout(loadQrPanel, QR_REFRESH_MS);
  }

  async function loadQrPanel() {
    if (!qrWanted()) {
      stopQr();
      return;
    }
    if (qrLoading) return;
    qrLoading = true;
    try {
      const res = await fetch(`/client/${encodeURIComponent(SLUG)}/qr`, {
        headers: { accept: 'text/html' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      if (res.status === 401) {
        showSignIn(W.sessionEnded);
        return;
      }
      if (!res.ok) return; // tried again at the next tick
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.getElementById('qr-panel');
      const slot = qrSlot();
      if (!fresh || !slot || !qrWanted()) return;
      // A focused button keeps the focus when the same button comes back.
      const focused = slot.contains(document.activeElement)
        ? document.activeElement?.dataset?.qrAction
        : null;
      slot.replaceChildren(document.importNode(fresh, true));
      slot.hidden = false;
      main.dataset.qrState = fresh.dataset.qrState || '';
      if (focused) slot.querySelector(`[data-qr-action="${CSS.escape(focused)}"]`)?.focus();
    } catch {
      // A missed refresh is tried again at the next tick.
    } finally {
      qrLoading = false;
      scheduleQr();
    }
  }

  function startQr() {
    if (qrWanted()) loadQrPanel();
    else stopQr();
  }

  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-qr-action]') : null;
    if (!button || !qrSlot()?.contains(button)) return;
    const action = button.dataset.qrAction;
    if (action !== 'unlink' && action !== 'start') return;
    const statusNode = $('qr-status');
    setMessage(statusNode, W.qrPanel.working);
    try {
      await busy([button], () => tenantApi('POST', `/tenant/qr/${action}`));
      setMessage(statusNode, action === 'unlink' ? W.qrPanel.unlinked : W.qrPanel.started, 'ok');
      await loadQrPanel();
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
    }
  });

  // ---------------------------------------------------------------- the one-time key display

  function showKeyOnce(apiKey) {
    const box = $('key-once');
    $('key-value').textContent = apiKey;
    setMessage($('copy-status'), '');
    show(box, true);
    $('copy-key').focus();
  }

  function hideKeyOnce() {
    $('key-value').textContent = '';
    setMessage($('copy-status'), '');
    show($('key-once'), false);
  }

  function selectKeyText() {
    const range = document.createRange();
    range.selectNodeContents($('key-value'));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  $('copy-key').addEventListener('click', async () => {
    const value = $('key-value').textContent;
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      setMessage($('copy-status'), W.copied, 'ok');
    } catch {
      selectKeyText();
      setMessage($('copy-status'), W.copyFallback);
    }
  });
  $('key-stored').addEventListener('click', hideKeyOnce);

  // ---------------------------------------------------------------- signing in and out

  const pageMessage = (text, kind) => setMessage($('page-message'), text, kind);
  const pageError = (text) => setMessage($('page-error'), text, 'error');

  function clearPanel() {
    tenant = null;
    approvedTemplates = null;
    for (const form of $('tenant-panel').querySelectorAll('form')) {
      form.reset();
      clearFieldErrors(form);
    }
    for (const id of ['faq-list', 'connection-checks', 'conversation-list', 'message-list', 'key-list']) {
      $(id).replaceChildren();
    }
    for (const node of $('tenant-panel').querySelectorAll('.form-status')) setMessage(node, '');
    for (const id of [
      'assistant-state',
      'token-stored',
      'openai-stored',
      'messages-heading',
      'template-unavailable',
    ]) {
      $(id).textContent = '';
    }
    show($('messages'), false);
  }

  function showSignIn(message) {
    session = null;
    clearPanel();
    stopQr();
    show($('tenant-panel'), false);
    show($('sign-in'), true);
    setMessage($('sign-in-error'), message || '', 'error');
  }

  /** Opens the panel when the session is this page's tenant's; otherwise shows sign-in only. */
  async function openPanel(described) {
    if (described.kind !== 'tenant') {
      showSignIn();
      return false;
    }
    session = { csrf: described.csrf_token, keyId: described.key_id };
    let own;
    try {
      own = await api('GET', '/tenant');
    } catch (error) {
      showSignIn(error instanceof ApiError && error.status === 401 ? W.sessionEnded : error.message);
      return false;
    }
    if (own.slug !== SLUG || own.id !== described.client_id) {
      // Another business's session: nothing of it is shown here.
      session = null;
      showSignIn();
      return false;
    }
    tenant = own;
    show($('sign-in'), false);
    $('sign-in-key').value = '';
    setMessage($('sign-in-error'), '');
    renderTenant(own);
    show($('tenant-panel'), true);
    startQr();
    loadKeys();
    loadTemplates();
    loadConversations();
    return true;
  }

  /** A key for a session; a key of another business is refused here, and its session closed. */
  async function signInWith(key) {
    const described = await api('POST', '/web/sessions', { key });
    const opened = await openPanel(described);
    if (!opened && described.kind === 'tenant') {
      const csrf = described.csrf_token;
      await fetch('/web/session', {
        method: 'DELETE',
        headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' },
        credentials: 'same-origin',
      }).catch(() => undefined);
      throw new ApiError(403, { message: W.otherTenant });
    }
    return opened;
  }

  $('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('sign-in-key');
    const button = $('sign-in-button');
    const key = input.value.trim();
    pageMessage('');
    if (!key) {
      setMessage($('sign-in-error'), W.error, 'error');
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = W.signingIn;
    try {
      await signInWith(key);
      input.value = '';
      $('panel-heading').focus?.();
    } catch (error) {
      input.setAttribute('aria-invalid', 'true');
      setMessage($('sign-in-error'), error.message, 'error');
      input.focus();
    } finally {
      button.disabled = false;
      button.textContent = W.signIn;
    }
  });
  $('sign-in-key').addEventListener('input', () => $('sign-in-key').removeAttribute('aria-invalid'));

  $('sign-out').addEventListener('click', async () => {
    try {
      await api('DELETE', '/web/session');
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) {
        pageError(error.message);
        return;
      }
    }
    hideKeyOnce();
    showSignIn();
    pageMessage(W.signedOut, 'ok');
    $('sign-in-key').focus();
  });

  // ---------------------------------------------------------------- the panel

  function renderAssistant(status, reason) {
    const node = $('assistant-state');
    let text = W.assistantReady;
    if (status === 'pending') text = W.assistantPending;
    else if (status === 'failed') text = reason ? `${W.assistantFailed}: ${reason}` : W.assistantFailed;
    if (node.textContent !== text) node.textContent = text;
    node.dataset.state = status;
    node.classList.toggle('pending', status === 'pending');
    node.classList.toggle('failed', status === 'failed');
  }

  function renderTenant(t) {
    renderAssistant(t.assistant_status, t.assistant_status_reason);
    $('welcome-message').value = t.welcome_message ?? '';
    $('business-hours').value = t.business_hours ?? '';
    const language = $('language');
    if (![...language.options].some((o) => o.value === t.language)) {
      language.append(el('option', { value: t.language, text: t.language }));
    }
    language.value = t.language;
    $('bot-enabled').checked = t.bot_enabled;
    $('reply-delay').value = String(t.reply_delay_seconds ?? '');
    $('handoff-minutes').value = String(t.handoff_minutes ?? '');
    $('audio-max-seconds').value = String(t.audio_max_seconds ?? '');
    renderTemplate(t.window_template ?? null);
    renderFaqs(t.faqs);
    $(t.channel === 'qr' ? 'channel-qr' : 'channel-cloud').checked = true;
    // Cloud API credentials mean nothing to a QR-mode tenant: shown again when it switches back.
    show($('cloud-form'), t.channel !== 'qr');
    // So is the 24-hour window: a linked account is not held to it, and has no templates.
    show($('template-form'), t.channel !== 'qr');
    $('whatsapp-token').value = '';
    $('token-stored').textContent = t.has_whatsapp_access_token ? W.secretStored : W.secretNotStored;
    show($('remove-token'), t.has_whatsapp_access_token);
    $('waba-id').value = t.waba_id ?? '';
    $('openai-key').value = '';
    $('openai-stored').textContent = t.has_openai_api_key ? W.secretStored : W.secretNotStored;
    show($('remove-openai-key'), t.has_openai_api_key);
    $('openai-model').value = t.openai_model ?? '';
  }

  /** PATCH /tenant with the changes; the panel then shows the tenant as answered. */
  async function patchTenant(form, statusNode, changes) {
    clearFieldErrors(form);
    if (Object.keys(changes).length === 0) {
      setMessage(statusNode, W.nothingToSave);
      return;
    }
    setMessage(statusNode, '');
    try {
      const updated = await busy(form.querySelectorAll('button'), () =>
        tenantApi('PATCH', '/tenant', changes),
      );
      tenant = updated;
      renderTenant(updated);
      startQr();
      setMessage(statusNode, W.saved, 'ok');
    } catch (error) {
      showError(form, statusNode, error);
    }
  }

  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!tenant) return;
    const changes = {};
    const welcome = $('welcome-message').value;
    if (welcome !== (tenant.welcome_message ?? '')) changes.welcome_message = welcome;
    const hours = $('business-hours').value;
    if (hours !== (tenant.business_hours ?? '')) changes.business_hours = hours;
    if ($('language').value !== tenant.language) changes.language = $('language').value;
    if ($('bot-enabled').checked !== tenant.bot_enabled) changes.bot_enabled = $('bot-enabled').checked;
    for (const [id, name] of [
      ['reply-delay', 'reply_delay_seconds'],
      ['handoff-minutes', 'handoff_minutes'],
      ['audio-max-seconds', 'audio_max_seconds'],
    ]) {
      const value = numberValue($(id));
      if (name in tenant && value !== tenant[name]) changes[name] = value;
    }
    patchTenant(event.currentTarget, $('settings-status'), changes);
  });

  /**
   * A number field as the API takes it: the number typed, or null when empty or not a number, so
   * the API's reason for refusing it shows next to the field (the form checks nothing itself).
   */
  function numberValue(input) {
    const raw = input.value.trim();
    if (raw === '' || input.validity.badInput) return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  // The template for replies outside the 24-hour window: a choice among the tenant's approved
  // templates when GET /tenant/templates lists them, else its name and language typed in (a
  // deployment without that route, a WABA that cannot be read): the API checks either way.
  let approvedTemplates = null;
  const templateKey = (t) => (t ? `${t.name}|${t.language}` : '');

  async function loadTemplates() {
    setMessage($('template-unavailable'), '');
    try {
      const listed = await api('GET', '/tenant/templates');
      const templates = Array.isArray(listed?.templates) ? listed.templates : null;
      approvedTemplates = templates
        ? templates.filter(
            (t) =>
              t &&
              typeof t.name === 'string' &&
              typeof t.language === 'string' &&
              String(t.status ?? 'APPROVED').toUpperCase() === 'APPROVED',
          )
        : null;
    } catch (error) {
      approvedTemplates = null;
      // Why the list cannot be read (no waba_id yet, a token Meta refuses), but not that this
      // deployment has no such route, nor a session that ended (sign-in shows that).
      if (error instanceof ApiError && ![0, 401, 404].includes(error.status)) {
        setMessage($('template-unavailable'), error.message);
      }
    }
    if (tenant) renderTemplate(tenant.window_template ?? null);
  }

  function renderTemplate(current) {
    const choosing = Array.isArray(approvedTemplates);
    show($('template-choice'), choosing);
    show($('template-typed'), !choosing);
    $('template-name').value = current?.name ?? '';
    $('template-language').value = current?.language ?? '';
    const select = $('template-select');
    if (!choosing) {
      select.replaceChildren();
      return;
    }
    const options = [el('option', { value: '', text: W.templateNone })];
    const listed = [...approvedTemplates];
    // The template in use stays choosable even when the list no longer has it.
    if (current && !listed.some((t) => templateKey(t) === templateKey(current))) listed.unshift(current);
    for (const t of listed) {
      options.push(el('option', { value: templateKey(t), text: `${t.name} · ${t.language}` }));
    }
    select.replaceChildren(...options);
    select.value = templateKey(current);
    const none = approvedTemplates.length === 0;
    show($('template-none-approved'), none);
    if (none) select.setAttribute('aria-describedby', 'template-none-approved');
    else select.removeAttribute('aria-describedby');
  }

  /** The template the form names: null for none. */
  function chosenTemplate() {
    if (Array.isArray(approvedTemplates)) {
      const value = $('template-select').value;
      if (!value) return null;
      const [name, language] = value.split('|');
      return { name, language };
    }
    const name = $('template-name').value.trim();
    const language = $('template-language').value.trim();
    return name === '' && language === '' ? null : { name, language };
  }

  $('template-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!tenant) return;
    const chosen = chosenTemplate();
    const changes =
      templateKey(chosen) === templateKey(tenant.window_template ?? null) ? {} : { window_template: chosen };
    patchTenant(event.currentTarget, $('template-status'), changes);
  });

  // FAQs: one fieldset per question, renumbered on every change.
  function faqRow(faq) {
    const row = el('li', { class: 'faq-row' });
    const fieldset = el('fieldset', {}, el('legend'));
    const q = el('input', { type: 'text', class: 'faq-q', maxlength: 500, autocomplete: 'off' });
    q.value = faq.q ?? '';
    const a = el('textarea', { class: 'faq-a', maxlength: 2000 });
    a.value = faq.a ?? '';
    const remove = el('button', { type: 'button', class: 'danger remove-faq' });
    remove.addEventListener('click', () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      numberFaqs();
      (next?.querySelector('.faq-q') || $('add-faq')).focus();
    });
    fieldset.append(
      el('label', { class: 'faq-q-label' }),
      q,
      el('label', { class: 'faq-a-label' }),
      a,
      remove,
    );
    row.append(fieldset);
    return row;
  }

  function numberFaqs() {
    [...$('faq-list').children].forEach((row, index) => {
      const n = index + 1;
      row.querySelector('legend').textContent = `${W.faqNumber} ${n}`;
      const q = row.querySelector('.faq-q');
      const a = row.querySelector('.faq-a');
      q.id = `faq-q-${n}`;
      a.id = `faq-a-${n}`;
      q.dataset.field = `faqs.${index}.q`;
      a.dataset.field = `faqs.${index}.a`;
      const qLabel = row.querySelector('.faq-q-label');
      qLabel.htmlFor = q.id;
      qLabel.textContent = W.question;
      const aLabel = row.querySelector('.faq-a-label');
      aLabel.htmlFor = a.id;
      aLabel.textContent = W.answer;
      const remove = row.querySelector('.remove-faq');
      remove.textContent = W.removeFaq;
      remove.setAttribute('aria-label', `${W.removeFaq} (${n})`);
    });
  }

  function renderFaqs(faqs) {
    $('faq-list').replaceChildren(...(faqs ?? []).map(faqRow));
    numberFaqs();
  }

  $('add-faq').addEventListener('click', () => {
    const row = faqRow({ q: '', a: '' });
    $('faq-list').append(row);
    numberFaqs();
    row.querySelector('.faq-q').focus();
  });

  $('faqs-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!tenant) return;
    const faqs = [...$('faq-list').children].map((row) => ({
      q: row.querySelector('.faq-q').value.trim(),
      a: row.querySelector('.faq-a').value.trim(),
    }));
    patchTenant(event.currentTarget, $('faqs-status'), { faqs });
  });

  $('channel-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!tenant) return;
    const chosen = $('channel-qr').checked ? 'qr' : 'cloud_api';
    const changes = chosen === tenant.channel ? {} : { channel: chosen };
    patchTenant(event.currentTarget, $('channel-status'), changes).then(() => {
      // Where the API refuses QR mode (no QR runner here), show its reason and the channel in use.
      if (tenant && chosen !== tenant.channel) {
        $(tenant.channel === 'qr' ? 'channel-qr' : 'channel-cloud').checked = true;
      }
    });
  });

  $('cloud-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!tenant) return;
    const changes = {};
    const token = $('whatsapp-token').value.trim();
    if (token) changes.whatsapp_access_token = token;
    const waba = $('waba-id').value.trim();
    if (waba !== (tenant.waba_id ?? '')) changes.waba_id = waba === '' ? null : waba;
    // The approved templates are the WABA's: listed again for another one.
    patchTenant(event.currentTarget, $('cloud-status'), changes).then(() => {
      if ('waba_id' in changes) loadTemplates();
    });
  });

  $('remove-token').addEventListener('click', () =>
    patchTenant($('cloud-form'), $('cloud-status'), { whatsapp_access_token: null }),
  );

  $('test-connection').addEventListener('click', async () => {
    const button = $('test-connection');
    const list = $('connection-checks');
    const statusNode = $('cloud-status');
    list.replaceChildren();
    setMessage(statusNode, W.testing);
    button.disabled = true;
    try {
      const result = await tenantApi('POST', '/tenant/test-connection');
      setMessage(statusNode, result.ok ? W.testOk : W.testFailed, result.ok ? 'ok' : 'error');
      for (const check of result.checks ?? []) {
        list.append(
          el(
            'li',
            { class: `check ${check.ok ? 'ok' : 'failed'}`, 'data-check': check.name },
            el('strong', { text: `${W.checkNames?.[check.name] ?? check.name}: ` }),
            el('span', { class: 'check-verdict', text: check.ok ? W.checkOk : W.checkFailed }),
            el('span', { text: ` — ${check.detail ?? ''}` }),
          ),
        );
      }
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
    } finally {
      button.disabled = false;
    }
  });

  $('openai-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!tenant) return;
    const changes = {};
    const key = $('openai-key').value.trim();
    if (key) changes.openai_api_key = key;
    const model = $('openai-model').value.trim();
    if (model && model !== (tenant.openai_model ?? '')) changes.openai_model = model;
    patchTenant(event.currentTarget, $('openai-status'), changes);
  });

  $('remove-openai-key').addEventListener('click', () =>
    patchTenant($('openai-form'), $('openai-status'), { openai_api_key: null }),
  );

  // Conversations: the recent contacts, each with who answers it (the bot, or a person of the
  // business until a time), and one contact's messages on demand.
  const fill = (template, values) =>
    String(template).replace(/\{(\w+)\}/g, (_, key) =>
      values[key] === undefined ? '' : String(values[key]),
    );
  const contactName = (c) => c.name || c.wa_id || c.contact;

  /** A handoff's end: the time alone when it is today, else the date too. */
  function formatUntil(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    const locale = LANG === 'en' ? 'en-GB' : 'es-ES';
    if (date.toDateString() === new Date().toDateString()) {
      return date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
    }
    return formatTime(iso);
  }

  function handoffText(handoff) {
    const time = handoff.until ? formatUntil(handoff.until) : null;
    if (handoff.by === 'customer_request') {
      return time ? fill(W.handoffRequestedUntil, { time }) : W.handoffRequested;
    }
    return time ? fill(W.handoffPerson, { time }) : W.handoffPersonOpen;
  }

  function conversationItem(c) {
    const name = contactName(c);
    const handoff = c.handoff && typeof c.handoff === 'object' ? c.handoff : null;
    const open = el(
      'button',
      { type: 'button', class: 'secondary conversation', 'data-contact': c.contact },
      el('span', { class: 'conversation-name', text: name }),
      el('span', {
        class: 'conversation-time',
        text: ` · ${W.lastActivity}: ${formatTime(c.last_activity_at)}`,
      }),
    );
    open.addEventListener('click', () => loadMessages(c));
    const toggle = el('button', {
      type: 'button',
      class: 'secondary handoff-toggle',
      'data-contact': c.contact,
      'data-action': handoff ? 'release' : 'take-over',
      'aria-label': fill(handoff ? W.releaseLabel : W.takeOverLabel, { name }),
      text: handoff ? W.release : W.takeOver,
    });
    toggle.addEventListener('click', () => toggleHandoff(c, handoff, toggle));
    const badge = handoff
      ? el('p', {
          class: `handoff-badge${handoff.by === 'customer_request' ? ' requested' : ''}`,
          'data-handoff-by': handoff.by,
          text: handoffText(handoff),
        })
      : null;
    return el(
      'li',
      { class: 'conversation-item', 'data-contact': c.contact, 'data-handoff': handoff ? handoff.by : '' },
      open,
      el('div', { class: 'conversation-actions' }, badge, toggle),
    );
  }

  async function loadConversations() {
    const list = $('conversation-list');
    const statusNode = $('conversations-status');
    try {
      const { conversations } = await tenantApi('GET', '/tenant/conversations?limit=20');
      setMessage(statusNode, conversations.length === 0 ? W.noConversations : '');
      list.replaceChildren(...conversations.map(conversationItem));
      return true;
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
      return false;
    }
  }

  /** Takes a chat from the bot (until the tenant's handoff_minutes pass) or hands it back. */
  async function toggleHandoff(conversation, handoff, button) {
    const statusNode = $('conversations-status');
    const name = contactName(conversation);
    const path = `/tenant/conversations/${encodeURIComponent(conversation.contact)}/handoff`;
    try {
      await busy([button], () => (handoff ? tenantApi('DELETE', path) : tenantApi('POST', path, {})));
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
      return;
    }
    if (!(await loadConversations())) return;
    setMessage(statusNode, fill(handoff ? W.released : W.tookOver, { name }), 'ok');
    // The list is drawn anew: the focus goes back to this chat's button.
    $('conversation-list')
      .querySelector(`.handoff-toggle[data-contact="${CSS.escape(conversation.contact)}"]`)
      ?.focus();
  }

  async function loadMessages(conversation) {
    const statusNode = $('conversations-status');
    try {
      const { messages } = await tenantApi(
        'GET',
        `/tenant/conversations/${encodeURIComponent(conversation.contact)}/messages?limit=50`,
      );
      $('messages-heading').textContent =
        `${W.messagesHeading} ${conversation.name || conversation.wa_id || conversation.contact}`;
      const ordered = [...messages].reverse(); // oldest first, as a chat reads
      $('message-list').replaceChildren(
        ...(ordered.length === 0
          ? [el('li', { text: W.noMessages })]
          : ordered.map((m) =>
              el(
                'li',
                { class: `message ${m.direction === 'inbound' ? 'inbound' : 'outbound'}` },
                el('span', {
                  class: 'message-meta',
                  text: `${m.direction === 'inbound' ? W.customer : W.assistant} · ${formatTime(m.at)}`,
                }),
                m.transcript ? el('span', { class: 'message-transcript', text: W.transcript }) : null,
                el('span', { class: 'message-text', text: m.text ?? `[${m.type}]` }),
              ),
            )),
      );
      show($('messages'), true);
      setMessage(statusNode, '');
      $('messages-heading').focus();
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
    }
  }

  $('refresh-conversations').addEventListener('click', loadConversations);

  // API keys: list, create (shown once), revoke.
  async function loadKeys() {
    const statusNode = $('keys-status');
    try {
      const { api_keys: keys } = await tenantApi('GET', '/tenant/api-keys');
      $('key-list').replaceChildren(
        ...keys.map((k) => {
          const mine = session && k.key_id === session.keyId;
          const revoke = el('button', {
            type: 'button',
            class: 'danger revoke-key',
            'data-key-id': k.key_id,
            'aria-label': `${W.revoke} ${k.prefix}`,
            text: W.revoke,
          });
          revoke.addEventListener('click', () => revokeKey(k.key_id));
          return el(
            'tr',
            { 'data-key-id': k.key_id },
            el(
              'td',
              {},
              el('code', { text: k.prefix }),
              mine ? el('span', { class: 'hint this-session', text: W.thisSession }) : null,
            ),
            el('td', { text: formatTime(k.created_at) }),
            el('td', { text: formatTime(k.last_used_at) }),
            el('td', {}, revoke),
          );
        }),
      );
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
    }
  }

  async function revokeKey(keyId) {
    const statusNode = $('keys-status');
    try {
      await tenantApi('DELETE', `/tenant/api-keys/${encodeURIComponent(keyId)}`);
      if (session && keyId === session.keyId) {
        // The key of this session: the session ends with it.
        hideKeyOnce();
        showSignIn(W.sessionEnded);
        return;
      }
      setMessage(statusNode, W.revoked, 'ok');
      await loadKeys();
    } catch (error) {
      if (session) setMessage(statusNode, error.message, 'error');
    }
  }

  $('create-key').addEventListener('click', async () => {
    const statusNode = $('keys-status');
    setMessage(statusNode, '');
    try {
      const created = await busy([$('create-key')], () => tenantApi('POST', '/tenant/api-keys'));
      showKeyOnce(created.api_key);
      await loadKeys();
    } catch (error) {
      setMessage(statusNode, error.message, 'error');
    }
  });

  // ---------------------------------------------------------------- start

  async function acceptInvitation(token) {
    pageMessage(W.inviteWorking);
    try {
      const accepted = await api('POST', '/invitations/accept', { token });
      pageMessage('');
      showKeyOnce(accepted.api_key);
      try {
        await signInWith(accepted.api_key);
      } catch (error) {
        showSignIn(error.message);
      }
    } catch (error) {
      pageMessage('');
      pageError(error.message);
      await startFromSession();
    }
  }

  async function startFromSession() {
    try {
      await openPanel(await api('GET', '/web/session'));
    } catch {
      showSignIn();
    }
  }

  async function start() {
    scheduleRefresh();
    const url = new URL(window.location.href);
    const invite = url.searchParams.get('invite');
    if (invite) {
      // Out of the address bar (and so of the history and of any bookmark) before anything else.
      url.searchParams.delete('invite');
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
      // Accepted on a person's click only: a mail scanner that opens the link must not use it up.
      const box = $('invite');
      box.hidden = false;
      $('invite-accept').addEventListener(
        'click',
        async () => {
          box.hidden = true;
          await acceptInvitation(invite);
          main.dataset.accepted = 'true';
        },
        { once: true },
      );
    } else {
      await startFromSession();
    }
    main.dataset.ready = 'true';
  }

  start();
})();
