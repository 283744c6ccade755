// The operator console (/console). It signs in with the operator key (POST /web/sessions: the key
// is exchanged for an HttpOnly session cookie and never kept by the page), then works through the
// very routes curl uses, with the cookie and, on every change, the session's CSRF token in
// x-csrf-token. Every text from the API is written with textContent, never as HTML.
(() => {
  const root = document.getElementById('console');
  if (!root) return;
  const lang = root.dataset.lang === 'en' ? 'en' : 'es';
  const t = JSON.parse(root.dataset.i18n || '{}');
  const $ = (id) => document.getElementById(id);
  const fill = (template, values) =>
    String(template).replace(/\{(\w+)\}/g, (_, key) =>
      values[key] === undefined ? '' : String(values[key]),
    );

  /** The session's CSRF token, in memory only (the cookie carries the session). */
  let csrf = '';
  let clients = [];
  let stats = new Map();
  let selected = null;
  let editing = null;

  const dateFormat = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'es-ES', {
    dateStyle: 'short',
    timeStyle: 'short',
  });
  const formatTime = (iso) => (iso ? dateFormat.format(new Date(iso)) : t.none);
  const percent = (rate) =>
    rate === null || rate === undefined
      ? t.none
      : `${Math.round(rate * 1000) / 10}${lang === 'en' ? '%' : '\u00a0%'}`;

  /* ---------- talking to the API ---------- */

  class ApiError extends Error {
    constructor(status, body) {
      super(body?.message || `HTTP ${status}`);
      this.status = status;
      this.body = body;
      this.details = (body && Array.isArray(body.details) && body.details) || [];
    }
  }

  /** One call to the API: the session cookie (same origin), JSON, and the CSRF token on changes. */
  async function api(method, path, body, options = {}) {
    const headers = { accept: 'application/json' };
    if (method !== 'GET') {
      headers['content-type'] = 'application/json';
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError(0, { message: t.networkError });
    }
    const raw = await response.text();
    let data;
    try {
      data = raw ? JSON.parse(raw) : undefined;
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      if (response.status === 401 && !options.signingIn) showSignedOut(t.sessionEnded);
      throw new ApiError(response.status, data);
    }
    return data;
  }

  /* ---------- messages ---------- */

  function notify(message) {
    $('alert').textContent = '';
    $('notice').textContent = message;
  }

  function alertError(error) {
    $('notice').textContent = '';
    $('alert').textContent = `${t.error}: ${error.message}`;
  }

  function clearMessages() {
    $('notice').textContent = '';
    $('alert').textContent = '';
  }

  /* ---------- signing in and out ---------- */

  function showSignedOut(message) {
    csrf = '';
    clients = [];
    $('workspace').hidden = true;
    $('session-bar').hidden = true;
    $('sign-in').hidden = false;
    $('clients-body').replaceChildren();
    if (message) notify(message);
  }

  async function endSession() {
    try {
      await api('DELETE', '/web/session', undefined, { signingIn: true });
    } catch {
      // Signed out anyway: the cookie is cleared or expires.
    }
  }

  /** A session that is not the operator's (a tenant key) cannot use the console: it is ended. */
  async function startWith(session) {
    csrf = session.csrf_token;
    if (session.kind !== 'operator') {
      await endSession();
      showSignedOut();
      $('alert').textContent = t.tenantRefused;
      return;
    }
    $('sign-in').hidden = true;
    $('workspace').hidden = false;
    $('session-bar').hidden = false;
    await refreshAll();
  }

  $('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('operator-key');
    const key = input.value.trim();
    setFieldError(input, $('operator-key-error'), '');
    clearMessages();
    if (!key) {
      setFieldError(input, $('operator-key-error'), t.fieldsHaveErrors);
      input.focus();
      return;
    }
    try {
      const session = await api('POST', '/web/sessions', { key }, { signingIn: true });
      input.value = '';
      await startWith(session);
    } catch (error) {
      setFieldError(input, $('operator-key-error'), error.message);
      input.focus();
    }
  });

  $('sign-out').addEventListener('click', async () => {
    await endSession();
    showSignedOut(t.signedOut);
    $('operator-key').focus();
  });

  /* ---------- the table ---------- */

  const isConnected = (client) => client.connection && client.connection.state === 'connected';

  async function refreshAll() {
    $('table-status').textContent = t.loading;
    try {
      const [list, report] = await Promise.all([api('GET', '/clients'), api('GET', '/admin/stats')]);
      clients = list.clients;
      stats = new Map(report.tenants.map((tenant) => [tenant.client_id, tenant]));
      $('total-messages').textContent = String(report.totals.messages_in);
      renderTable();
      refreshChart();
    } catch (error) {
      $('table-status').textContent = '';
      if (error.status !== 401) alertError(error);
    }
  }

  function refreshChart() {
    const chart = $('chart');
    chart.src = `/admin/stats/chart.svg?lang=${lang}&v=${Date.now()}`;
    chart.hidden = false;
    api('GET', '/admin/stats/daily?days=14')
      .then((daily) => {
        const totals = daily.totals;
        const shares = totals.answer_shares;
        $('chart-summary').textContent = shares
          ? fill(t.chartSummary, {
              received: totals.messages_in,
              answered: totals.answered,
              openai: percent(shares.openai),
              faq: percent(shares.faq),
              fallback: percent(shares.fallback),
              declined: percent(shares.declined),
            })
          : totals.messages_in > 0
            ? fill(t.chartSummary, {
                received: totals.messages_in,
                answered: 0,
                openai: t.none,
                faq: t.none,
                fallback: t.none,
                declined: t.none,
              })
            : t.chartEmpty;
      })
      .catch(() => {
        $('chart-summary').textContent = '';
      });
  }

  function matches(client) {
    const query = $('search').value.trim().toLowerCase();
    const active = $('filter-active').value;
    const connected = $('filter-connected').value;
    if (query && !`${client.name} ${client.phone_number}`.toLowerCase().includes(query)) return false;
    if (active === 'active' && !client.active) return false;
    if (active === 'inactive' && client.active) return false;
    if (connected === 'connected' && !isConnected(client)) return false;
    if (connected === 'disconnected' && isConnected(client)) return false;
    return true;
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function badge(text, kind) {
    const span = document.createElement('span');
    span.className = `status ${kind}`;
    span.textContent = text;
    return span;
  }

  function button(label, ariaLabel, className, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
    if (className) b.className = className;
    b.addEventListener('click', onClick);
    return b;
  }

  function renderTable() {
    $('total-clients').textContent = String(clients.length);
    $('total-active').textContent = String(clients.filter((c) => c.active).length);
    $('total-connected').textContent = String(clients.filter((c) => c.active && isConnected(c)).length);
    const shown = clients.filter(matches);
    const rows = shown.map((client) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = client.id;
      const counts = stats.get(client.id);
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = client.name;
      tr.append(name, cell(client.phone_number, 'nowrap'), cell(t.channel[client.channel] || client.channel));
      const active = document.createElement('td');
      active.append(badge(client.active ? t.activeState : t.inactiveState, client.active ? 'ok' : 'warn'));
      active.className = 'client-active';
      const connection = document.createElement('td');
      const state = client.connection ? client.connection.state : 'connected';
      connection.append(badge(t.connection[state] || state, state === 'connected' ? 'ok' : 'warn'));
      const assistant = document.createElement('td');
      assistant.append(
        badge(
          t.assistant[client.assistant_status] || client.assistant_status,
          client.assistant_status === 'ready' ? 'ok' : 'warn',
        ),
      );
      const invitation = client.invitation ? client.invitation.status : 'not_requested';
      tr.append(
        active,
        connection,
        assistant,
        cell(t.invitation[invitation] || invitation),
        cell(String(counts ? counts.messages_in : 0), 'number'),
        cell(String(counts ? counts.answered : 0), 'number'),
        cell(percent(counts ? counts.fallback_rate : null), 'number'),
        cell(formatTime(counts?.last_message_at), 'nowrap'),
      );
      const actions = document.createElement('td');
      actions.className = 'row-actions';
      actions.append(
        button(t.open, fill(t.openLabel, { name: client.name }), 'secondary', () => openDetails(client.id)),
        client.active
          ? button(t.deactivate, fill(t.deactivateLabel, { name: client.name }), 'danger', () =>
              setActive(client, false),
            )
          : button(t.reactivate, fill(t.reactivateLabel, { name: client.name }), 'secondary', () =>
              setActive(client, true),
            ),
      );
      tr.append(actions);
      return tr;
    });
    $('clients-body').replaceChildren(...rows);
    $('table-status').textContent =
      clients.length === 0
        ? t.noClients
        : shown.length === 0
          ? t.noMatches
          : fill(t.shown, { shown: shown.length, total: clients.length });
  }

  for (const id of ['search', 'filter-active', 'filter-connected']) {
    $(id).addEventListener('input', renderTable);
    $(id).addEventListener('change', renderTable);
  }
  $('refresh').addEventListener('click', () => {
    clearMessages();
    refreshAll();
  });

  /** Deactivate (DELETE /clients/{id}) or reactivate (PATCH active: true), then show the new state. */
  async function setActive(client, active) {
    if (!active && !window.confirm(fill(t.confirmDeactivate, { name: client.name }))) return;
    try {
      const updated = active
        ? await api('PATCH', `/clients/${encodeURIComponent(client.id)}`, { active: true })
        : await api('DELETE', `/clients/${encodeURIComponent(client.id)}`);
      replaceClient(updated);
      notify(fill(active ? t.reactivated : t.deactivated, { name: updated.name }));
      if (selected && selected.id === updated.id) showDetails(updated);
    } catch (error) {
      alertError(error);
    }
  }

  function replaceClient(updated) {
    const { slug: _slug, landing_url: _url, ...listed } = updated;
    const index = clients.findIndex((c) => c.id === updated.id);
    if (index >= 0) clients[index] = { ...clients[index], ...listed };
    else clients.push(listed);
    renderTable();
  }

  /* ---------- the client form (create and edit) ---------- */

  const FORM_FIELDS = [
    'name',
    'phone_number',
    'phone_number_id',
    'email',
    'language',
    'business_hours',
    'welcome_message',
  ];
  /** The conversation settings: numbers, left out when empty (the API's defaults apply). */
  const NUMBER_FIELDS = ['reply_delay_seconds', 'handoff_minutes', 'media_daily_limit', 'audio_max_seconds'];

  /** A number field as the API takes it: undefined when empty, null when not a number (the API says why). */
  function numberValue(input) {
    if (input.validity.badInput) return null;
    const raw = input.value.trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  function setFieldError(input, slot, message) {
    if (!slot) return;
    slot.textContent = message;
    slot.hidden = !message;
    if (input) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  function clearFormErrors() {
    const form = $('client-form');
    for (const slot of form.querySelectorAll('.field-error')) {
      slot.textContent = '';
      slot.hidden = true;
    }
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    $('client-form-error').hidden = true;
    $('client-form-error').textContent = '';
  }

  let faqCounter = 0;

  function addFaqRow(faq) {
    faqCounter += 1;
    const id = `faq-${faqCounter}`;
    const row = document.createElement('fieldset');
    row.className = 'faq-row';
    const legend = document.createElement('legend');
    row.append(legend);
    const make = (kind, tag) => {
      const wrap = document.createElement('div');
      wrap.className = 'field';
      const label = document.createElement('label');
      label.htmlFor = `${id}-${kind}`;
      label.textContent = kind === 'q' ? t.question : t.answer;
      const input = document.createElement(tag);
      input.id = `${id}-${kind}`;
      input.dataset.faq = kind;
      input.value = faq ? faq[kind] : '';
      input.setAttribute('aria-describedby', `${id}-${kind}-error`);
      const error = document.createElement('p');
      error.className = 'field-error';
      error.id = `${id}-${kind}-error`;
      error.hidden = true;
      wrap.append(label, input, error);
      return wrap;
    };
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary remove-faq';
    remove.addEventListener('click', () => {
      row.remove();
      numberFaqRows();
      const first = $('faq-rows').querySelector('textarea, input');
      (first || $('add-faq')).focus();
    });
    row.append(make('q', 'input'), make('a', 'textarea'), remove);
    $('faq-rows').append(row);
    numberFaqRows();
    return row;
  }

  function numberFaqRows() {
    const rows = [...$('faq-rows').querySelectorAll('.faq-row')];
    rows.forEach((row, index) => {
      row.querySelector('legend').textContent = fill(t.faqLegend, { n: index + 1 });
      const remove = row.querySelector('.remove-faq');
      remove.textContent = fill(t.removeFaq, { n: index + 1 });
      remove.hidden = rows.length === 1;
    });
  }

  $('add-faq').addEventListener('click', () => {
    addFaqRow().querySelector('input').focus();
  });

  function readFaqs() {
    return [...$('faq-rows').querySelectorAll('.faq-row')]
      .map((row) => ({
        q: row.querySelector('[data-faq="q"]').value.trim(),
        a: row.querySelector('[data-faq="a"]').value.trim(),
      }))
      .filter((faq) => faq.q || faq.a);
  }

  function openForm(client) {
    editing = client || null;
    clearFormErrors();
    clearMessages();
    const form = $('client-form');
    form.reset();
    $('faq-rows').replaceChildren();
    for (const name of [...FORM_FIELDS, ...NUMBER_FIELDS]) {
      const input = $(`f-${name}`);
      input.value = client && client[name] !== null && client[name] !== undefined ? client[name] : '';
    }
    if (!client) $('f-language').value = lang;
    $('f-bot_enabled').checked = client ? client.bot_enabled : true;
    for (const faq of client ? client.faqs : [undefined]) addFaqRow(faq);
    $('client-form-heading').textContent = client
      ? fill(t.editHeading, { name: client.name })
      : t.createHeading;
    $('client-form-submit').textContent = client ? t.save : t.create;
    $('client-form-section').hidden = false;
    $('client-form-heading').focus();
  }

  function closeForm() {
    $('client-form-section').hidden = true;
    editing = null;
  }

  $('new-client').addEventListener('click', () => openForm());
  $('client-form-cancel').addEventListener('click', () => {
    closeForm();
    $('new-client').focus();
  });

  /** The body of the form: everything filled for a new client, only what changed for an edit. */
  function formBody() {
    const body = {};
    for (const name of FORM_FIELDS) {
      const value = $(`f-${name}`).value.trim();
      if (editing) {
        const before = editing[name] === null || editing[name] === undefined ? '' : String(editing[name]);
        if (value && value !== before) body[name] = value;
      } else if (value) body[name] = value;
    }
    for (const name of NUMBER_FIELDS) {
      const value = numberValue($(`f-${name}`));
      if (value !== undefined && (!editing || value !== editing[name])) body[name] = value;
    }
    const bot = $('f-bot_enabled').checked;
    if (!editing || bot !== editing.bot_enabled) body.bot_enabled = bot;
    const faqs = readFaqs();
    if (!editing || JSON.stringify(faqs) !== JSON.stringify(editing.faqs)) body.faqs = faqs;
    return body;
  }

  /** The API's `details[]`, each next to its field (faqs.N.q next to that question). */
  function showDetails400(error) {
    let placed = false;
    const rows = [...$('faq-rows').querySelectorAll('.faq-row')];
    for (const detail of error.details) {
      const parts = String(detail.field).split('.');
      let input = null;
      let slot = null;
      if (parts[0] === 'faqs' && parts.length >= 3 && rows[Number(parts[1])]) {
        input = rows[Number(parts[1])].querySelector(`[data-faq="${parts[2] === 'a' ? 'a' : 'q'}"]`);
        slot = input && $(input.getAttribute('aria-describedby'));
      } else if (parts[0] === 'faqs') {
        slot = $('faqs-error');
      } else if (
        FORM_FIELDS.includes(parts[0]) ||
        NUMBER_FIELDS.includes(parts[0]) ||
        parts[0] === 'bot_enabled'
      ) {
        input = $(`f-${parts[0]}`);
        slot = $(`f-${parts[0]}-error`);
      }
      if (slot) {
        setFieldError(
          input,
          slot,
          slot.textContent ? `${slot.textContent} ${detail.message}` : detail.message,
        );
        placed = true;
      }
    }
    const formError = $('client-form-error');
    formError.textContent = placed ? `${error.message}` : error.message;
    formError.hidden = false;
    const firstInvalid = $('client-form').querySelector('[aria-invalid="true"]');
    (firstInvalid || formError).focus?.();
  }

  $('client-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors();
    clearMessages();
    const body = formBody();
    if (editing && Object.keys(body).length === 0) {
      notify(t.noChanges);
      return;
    }
    const submit = $('client-form-submit');
    submit.disabled = true;
    try {
      if (editing) {
        const updated = await api('PATCH', `/clients/${encodeURIComponent(editing.id)}`, body);
        replaceClient(updated);
        closeForm();
        notify(fill(t.saved, { name: updated.name }));
        if (selected && selected.id === updated.id) showDetails(updated);
      } else {
        const created = await api('POST', '/clients', body);
        replaceClient(created);
        closeForm();
        const invitation = created.invitation || {};
        notify(
          invitation.status === 'sent'
            ? fill(t.createdInvited, { name: created.name, email: invitation.to })
            : invitation.status === 'failed'
              ? fill(t.createdInviteFailed, { name: created.name, reason: invitation.reason })
              : fill(t.created, { name: created.name }),
        );
        refreshChart();
      }
    } catch (error) {
      if (error.status === 401) return;
      showDetails400(error);
    } finally {
      submit.disabled = false;
    }
  });

  /* ---------- one client: details and actions ---------- */

  async function openDetails(id) {
    clearMessages();
    try {
      showDetails(await api('GET', `/clients/${encodeURIComponent(id)}`));
      $('details-heading').focus();
    } catch (error) {
      alertError(error);
    }
  }

  function fact(term, value, href) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    if (href) {
      const a = document.createElement('a');
      a.href = href;
      a.textContent = value;
      dd.append(a);
    } else dd.textContent = value;
    return [dt, dd];
  }

  function showDetails(client) {
    const sameClient = selected && selected.id === client.id;
    selected = client;
    $('details').hidden = false;
    $('details-heading').textContent = client.name;
    const state = client.connection ? client.connection.state : 'connected';
    const invitation = client.invitation || { status: 'not_requested' };
    $('details-facts').replaceChildren(
      ...fact(t.id, client.id),
      ...fact(t.email, client.email || t.none),
      ...fact(
        t.connectionLabel,
        `${t.connection[state] || state} — ${client.connection ? client.connection.detail : ''}`,
      ),
      ...fact(t.assistantLabel, t.assistant[client.assistant_status] || client.assistant_status),
      ...fact(
        t.invitationLabel,
        `${t.invitation[invitation.status] || invitation.status}${invitation.to ? ` (${invitation.to})` : ''}${invitation.reason ? `: ${invitation.reason}` : ''}`,
      ),
      ...(client.landing_url ? fact(t.landing, client.landing_url, client.landing_url) : []),
      ...(client.reply_delay_seconds !== undefined
        ? fact(t.replyDelayFact, fill(t.seconds, { n: client.reply_delay_seconds }))
        : []),
      ...(client.handoff_minutes !== undefined
        ? fact(t.handoffFact, fill(t.minutes, { n: client.handoff_minutes }))
        : []),
      ...(client.window_template !== undefined
        ? fact(
            t.templateFact,
            client.window_template
              ? `${client.window_template.name} · ${client.window_template.language}`
              : t.none,
          )
        : []),
    );
    const toggle = $('action-active');
    toggle.textContent = client.active ? t.deactivate : t.reactivate;
    toggle.className = client.active ? 'danger' : 'secondary';
    $('action-invite').disabled = !client.email;
    if (!sameClient) {
      $('action-result').textContent = '';
      $('connection-checks').hidden = true;
      $('connection-checks').replaceChildren();
      $('new-key').hidden = true;
      $('new-key-value').value = '';
      $('conversations-list').replaceChildren();
      $('messages').hidden = true;
      $('messages-list').replaceChildren();
      loadKeys();
    }
  }

  const actionResult = (message) => {
    $('action-result').textContent = message;
  };
  const actionFailed = (error) => {
    if (error.status !== 401) actionResult(`${t.error}: ${error.message}`);
  };
  const clientPath = (suffix = '') => `/clients/${encodeURIComponent(selected.id)}${suffix}`;

  $('details-close').addEventListener('click', () => {
    const id = selected?.id;
    $('details').hidden = true;
    $('new-key-value').value = '';
    selected = null;
    const row = id && document.querySelector(`tr[data-client-id="${CSS.escape(id)}"] button`);
    if (row) row.focus();
  });
  $('action-edit').addEventListener('click', () => selected && openForm(selected));
  $('action-active').addEventListener('click', () => selected && setActive(selected, !selected.active));

  $('action-invite').addEventListener('click', async () => {
    try {
      const result = await api('POST', clientPath('/invitation'));
      actionResult(fill(t.invitationSent, { email: result.invitation.to }));
      showDetails(await api('GET', clientPath()));
      refreshAll();
    } catch (error) {
      actionFailed(error);
    }
  });

  $('action-test').addEventListener('click', async () => {
    actionResult(t.testing);
    const list = $('connection-checks');
    list.replaceChildren();
    try {
      const result = await api('POST', clientPath('/test-connection'));
      actionResult(result.ok ? t.testOk : t.testFailed);
      list.replaceChildren(
        ...result.checks.map((check) => {
          const li = document.createElement('li');
          li.append(badge(check.ok ? t.checkOk : t.checkFailed, check.ok ? 'ok' : 'warn'));
          const name = document.createElement('strong');
          name.textContent = ` ${check.name}: `;
          li.append(name, document.createTextNode(check.detail || ''));
          return li;
        }),
      );
      list.hidden = false;
    } catch (error) {
      actionFailed(error);
    }
  });

  $('action-purge').addEventListener('click', async () => {
    if (!window.confirm(fill(t.confirmPurge, { name: selected.name }))) return;
    try {
      const run = await api('POST', '/admin/purge', { client_id: selected.id });
      actionResult(
        fill(t.purgeDone, {
          messages: run.messages_deleted,
          conversations: run.conversations_deleted,
          incomplete: run.complete === false ? t.purgeIncomplete : '',
        }),
      );
    } catch (error) {
      actionFailed(error);
    }
  });

  /* keys: issued keys are shown once, in the page only, and forgotten when the box is closed */

  async function loadKeys() {
    if (!selected) return;
    const list = $('keys-list');
    try {
      const { api_keys: keys } = await api('GET', clientPath('/api-keys'));
      if (keys.length === 0) {
        const li = document.createElement('li');
        li.textContent = t.noKeys;
        list.replaceChildren(li);
        return;
      }
      list.replaceChildren(
        ...keys.map((key) => {
          const li = document.createElement('li');
          const code = document.createElement('code');
          code.textContent = key.prefix;
          li.append(
            code,
            document.createTextNode(
              ` · ${t.keyCreated} ${formatTime(key.created_at)} · ${t.keyLastUsed} ${key.last_used_at ? formatTime(key.last_used_at) : t.never} `,
            ),
            button(t.revoke, fill(t.revokeLabel, { name: key.prefix }), 'danger', () => revokeKey(key)),
          );
          return li;
        }),
      );
    } catch (error) {
      list.replaceChildren();
      actionFailed(error);
    }
  }

  async function revokeKey(key) {
    if (!window.confirm(fill(t.confirmRevoke, { name: key.prefix }))) return;
    try {
      await api('DELETE', clientPath(`/api-keys/${encodeURIComponent(key.key_id)}`));
      actionResult(t.keyRevoked);
      await loadKeys();
    } catch (error) {
      actionFailed(error);
    }
  }

  $('action-issue-key').addEventListener('click', async () => {
    try {
      const created = await api('POST', clientPath('/api-keys'));
      $('new-key-value').value = created.api_key;
      $('new-key').hidden = false;
      $('new-key-value').focus();
      $('new-key-value').select();
      await loadKeys();
    } catch (error) {
      actionFailed(error);
    }
  });

  $('new-key-copy').addEventListener('click', async () => {
    const input = $('new-key-value');
    try {
      await navigator.clipboard.writeText(input.value);
      actionResult(t.copied);
    } catch {
      input.focus();
      input.select();
      actionResult(t.copyFailed);
    }
  });

  $('new-key-done').addEventListener('click', () => {
    $('new-key-value').value = '';
    $('new-key').hidden = true;
    $('action-issue-key').focus();
  });

  /* conversations, messages, erasure */

  $('load-conversations').addEventListener('click', loadConversations);

  /** A handoff's end: the time alone when it is today, else the date too. */
  function formatUntil(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    if (date.toDateString() !== new Date().toDateString()) return formatTime(iso);
    return date.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'es-ES', { hour: '2-digit', minute: '2-digit' });
  }

  /** Who answers a chat: the bot (null), or a person of the business until a time. */
  function handoffBadge(handoff) {
    const time = handoff.until ? formatUntil(handoff.until) : null;
    const requested = handoff.by === 'customer_request';
    const text = requested
      ? time
        ? fill(t.handoffRequestedUntil, { time })
        : t.handoffRequested
      : time
        ? fill(t.handoffPerson, { time })
        : t.handoffPersonOpen;
    const span = badge(text, requested ? 'warn handoff-badge requested' : 'warn handoff-badge');
    span.dataset.handoffBy = handoff.by;
    return span;
  }

  async function loadConversations() {
    const list = $('conversations-list');
    try {
      const { conversations } = await api('GET', clientPath('/conversations?limit=50'));
      if (conversations.length === 0) {
        const li = document.createElement('li');
        li.textContent = t.noConversations;
        list.replaceChildren(li);
        return true;
      }
      list.replaceChildren(
        ...conversations.map((conversation) => {
          const who = conversation.name
            ? `${conversation.name} (${conversation.contact})`
            : conversation.contact;
          const handoff =
            conversation.handoff && typeof conversation.handoff === 'object' ? conversation.handoff : null;
          const li = document.createElement('li');
          li.dataset.contact = conversation.contact;
          li.dataset.handoff = handoff ? handoff.by : '';
          const strong = document.createElement('strong');
          strong.textContent = who;
          const toggle = button(
            handoff ? t.release : t.takeOver,
            fill(handoff ? t.releaseLabel : t.takeOverLabel, { name: who }),
            'secondary handoff-toggle',
            () => toggleHandoff(conversation.contact, who, handoff, toggle),
          );
          toggle.dataset.contact = conversation.contact;
          li.append(
            strong,
            document.createTextNode(
              ` · ${t.lastActivity} ${formatTime(conversation.last_activity_at)}${conversation.bot_paused ? ` · ${t.botPaused}` : ''} `,
            ),
            ...(handoff ? [handoffBadge(handoff), document.createTextNode(' ')] : []),
            button(t.showMessages, fill(t.showMessagesLabel, { name: who }), 'secondary', () =>
              loadMessages(conversation.contact, who),
            ),
            toggle,
            button(t.erase, fill(t.eraseLabel, { name: who }), 'danger', () =>
              erase(conversation.contact, who),
            ),
          );
          return li;
        }),
      );
      return true;
    } catch (error) {
      actionFailed(error);
      return false;
    }
  }

  /** The operator takes a chat from the bot (for the client's handoff_minutes) or hands it back. */
  async function toggleHandoff(contact, who, handoff, toggle) {
    const path = clientPath(`/conversations/${encodeURIComponent(contact)}/handoff`);
    toggle.disabled = true;
    try {
      await (handoff ? api('DELETE', path) : api('POST', path, {}));
    } catch (error) {
      toggle.disabled = false;
      actionFailed(error);
      return;
    }
    if (!(await loadConversations())) return;
    actionResult(fill(handoff ? t.released : t.tookOver, { name: who }));
    $('conversations-list')
      .querySelector(`.handoff-toggle[data-contact="${CSS.escape(contact)}"]`)
      ?.focus();
  }

  async function loadMessages(contact, who) {
    try {
      const { messages } = await api(
        'GET',
        clientPath(`/conversations/${encodeURIComponent(contact)}/messages?limit=50`),
      );
      $('messages-heading').textContent = fill(t.messagesOf, { name: who });
      // The API answers newest first; a conversation reads oldest first.
      const items = [...messages].reverse().map((message) => {
        const li = document.createElement('li');
        li.className = `message ${message.direction}`;
        const meta = document.createElement('span');
        meta.className = 'message-meta';
        meta.textContent = `${message.direction === 'inbound' ? t.inbound : t.outbound} · ${formatTime(message.at)}`;
        const text = document.createElement('span');
        text.className = 'message-text';
        text.textContent = message.text || t.noText;
        li.append(meta, text);
        return li;
      });
      if (items.length === 0) {
        const li = document.createElement('li');
        li.textContent = t.noMessages;
        items.push(li);
      }
      $('messages-list').replaceChildren(...items);
      $('messages').hidden = false;
      $('messages-heading').focus();
    } catch (error) {
      actionFailed(error);
    }
  }

  async function erase(contact, who) {
    if (!window.confirm(fill(t.confirmErase, { name: who }))) return;
    try {
      const result = await api('DELETE', clientPath(`/conversations/${encodeURIComponent(contact)}`));
      actionResult(fill(t.erased, { name: who, messages: result.messages_deleted }));
      $('messages').hidden = true;
      await loadConversations();
    } catch (error) {
      actionFailed(error);
    }
  }

  /* ---------- start: an open session is picked up, else the sign-in form ---------- */

  api('GET', '/web/session', undefined, { signingIn: true })
    .then(startWith)
    .catch(() => showSignedOut());
})();
