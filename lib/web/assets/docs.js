// The API documentation (/docs): renders /openapi.json, grouped by tag, with "Authorize" and "Try it".
// Runs under `script-src 'self'; style-src 'self'`: every node is built with the DOM (no innerHTML,
// no inline handlers, no style attributes). Keys live in this script's memory only: never in
// localStorage, sessionStorage or a cookie; reloading the page forgets them.
(() => {
  const root = document.getElementById('docs');
  const app = document.getElementById('docs-app');
  if (!root || !app) return;
  const lang = root.dataset.lang === 'en' ? 'en' : 'es';

  const WORDS = {
    es: {
      authorize: 'Autorizar',
      authorizeTitle: 'Autorización',
      authorizeHint: 'La clave se guarda solo en la memoria de esta página; al recargarla se olvida.',
      forget: 'Olvidar',
      authorized: 'Autorizado',
      notAuthorized: 'Sin autorizar',
      keyFor: (name) => `Clave (${name})`,
      contents: 'Contenido',
      parameters: 'Parámetros',
      name: 'Nombre',
      where: 'Dónde',
      required: 'Obligatorio',
      yes: 'sí',
      no: 'no',
      description: 'Descripción',
      body: 'Cuerpo (JSON)',
      responses: 'Respuestas',
      schema: 'Esquema',
      auth: 'Autenticación',
      noAuth: 'ninguna',
      or: ' o ',
      tryIt: 'Probar',
      send: 'Enviar',
      sending: 'Enviando…',
      status: 'Estado',
      responseBody: 'Cuerpo de la respuesta',
      empty: '(vacío)',
      failed: 'No se pudo enviar la petición: ',
      badJson: 'El cuerpo no es JSON válido: ',
      missing: (name) => `Falta el parámetro ${name}`,
      loadFailed: 'No se pudo cargar /openapi.json: ',
      filter: 'Filtrar rutas',
      authLabels: { operatorKey: 'clave del operador', tenantKey: 'clave del cliente' },
    },
    en: {
      authorize: 'Authorize',
      authorizeTitle: 'Authorization',
      authorizeHint: "The key is kept in this page's memory only; reloading the page forgets it.",
      forget: 'Forget',
      authorized: 'Authorized',
      notAuthorized: 'Not authorized',
      keyFor: (name) => `Key (${name})`,
      contents: 'Contents',
      parameters: 'Parameters',
      name: 'Name',
      where: 'In',
      required: 'Required',
      yes: 'yes',
      no: 'no',
      description: 'Description',
      body: 'Body (JSON)',
      responses: 'Responses',
      schema: 'Schema',
      auth: 'Authentication',
      noAuth: 'none',
      or: ' or ',
      tryIt: 'Try it',
      send: 'Send',
      sending: 'Sending…',
      status: 'Status',
      responseBody: 'Response body',
      empty: '(empty)',
      failed: 'The request could not be sent: ',
      badJson: 'The body is not valid JSON: ',
      missing: (name) => `Parameter ${name} is missing`,
      loadFailed: 'Could not load /openapi.json: ',
      filter: 'Filter routes',
      authLabels: { operatorKey: 'operator key', tenantKey: 'tenant key' },
    },
  };
  const w = WORDS[lang];
  const METHODS = ['get', 'post', 'patch', 'put', 'delete'];

  /** The keys the user authorized with, by security scheme name. In memory only. */
  const keys = new Map();
  const authListeners = [];

  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs ?? {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'className') node.className = value;
      else if (value === true) node.setAttribute(name, '');
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat(Number.POSITIVE_INFINITY)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** Text with `code` spans, as the API's descriptions write them (text nodes only). */
  function richText(text) {
    const parts = String(text ?? '').split('`');
    return parts.map((part, index) => (index % 2 === 1 ? el('code', {}, part) : part));
  }

  const pretty = (value) => JSON.stringify(value, null, 2);
  const slug = (text) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');

  function schemeLabel(name, scheme) {
    return w.authLabels[name] ?? (scheme?.name ? `${name} (${scheme.name})` : name);
  }

  // ---- Authorize ----

  function authorizeBox(schemes) {
    const bearer = Object.entries(schemes).filter(([, s]) => s.type === 'http' && s.scheme === 'bearer');
    const status = el('p', { className: 'hint', role: 'status', id: 'auth-status' });
    const refreshStatus = () => {
      const names = bearer.filter(([name]) => keys.has(name)).map(([name, s]) => schemeLabel(name, s));
      status.textContent = names.length > 0 ? `${w.authorized}: ${names.join(', ')}` : w.notAuthorized;
      for (const listener of authListeners) listener();
    };
    const forms = bearer.map(([name, scheme]) => {
      const inputId = nextId('key');
      const hintId = nextId('hint');
      const input = el('input', {
        id: inputId,
        type: 'password',
        name,
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': hintId,
      });
      const forget = el('button', { type: 'button', className: 'secondary', hidden: true }, w.forget);
      const form = el(
        'form',
        { className: 'auth-form', 'data-scheme': name },
        el('label', { for: inputId }, w.keyFor(schemeLabel(name, scheme))),
        el('p', { className: 'hint', id: hintId }, ...richText(scheme.description)),
        input,
        el('button', { type: 'submit' }, w.authorize),
        forget,
      );
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        keys.set(name, value);
        input.value = '';
        input.placeholder = '••••••••';
        forget.hidden = false;
        refreshStatus();
      });
      forget.addEventListener('click', () => {
        keys.delete(name);
        input.placeholder = '';
        forget.hidden = true;
        refreshStatus();
        input.focus();
      });
      return form;
    });
    refreshStatus();
    return el(
      'section',
      { className: 'card auth-box', 'aria-labelledby': 'auth-title' },
      el('h2', { id: 'auth-title' }, w.authorizeTitle),
      el('p', { className: 'hint' }, w.authorizeHint),
      el('div', { className: 'auth-forms' }, forms),
      status,
    );
  }

  // ---- One operation ----

  function parametersTable(parameters) {
    return el(
      'table',
      { className: 'params' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, w.name),
          el('th', { scope: 'col' }, w.where),
          el('th', { scope: 'col' }, w.required),
          el('th', { scope: 'col' }, w.description),
        ),
      ),
      el(
        'tbody',
        {},
        parameters.map((p) =>
          el(
            'tr',
            {},
            el('td', {}, el('code', {}, p.name)),
            el('td', {}, p.in),
            el('td', {}, p.required ? w.yes : w.no),
            el('td', {}, ...richText(p.description ?? ''), schemaSummary(p.schema)),
          ),
        ),
      ),
    );
  }

  function schemaSummary(schema) {
    if (!schema) return '';
    const bits = [];
    if (schema.type) bits.push(Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type);
    if (schema.enum) bits.push(schema.enum.map((v) => JSON.stringify(v)).join(' | '));
    if (schema.minimum !== undefined) bits.push(`≥ ${schema.minimum}`);
    if (schema.maximum !== undefined) bits.push(`≤ ${schema.maximum}`);
    if (schema.default !== undefined) bits.push(`default ${JSON.stringify(schema.default)}`);
    return bits.length > 0 ? el('span', { className: 'hint schema-summary' }, ` (${bits.join(', ')})`) : '';
  }

  function schemaBlock(title, schema) {
    return el(
      'details',
      { className: 'schema' },
      el('summary', {}, title),
      el('pre', { tabindex: '0' }, el('code', {}, pretty(schema))),
    );
  }

  function securityText(security, schemes) {
    if (!security || security.length === 0) return w.noAuth;
    return security
      .map((requirement) =>
        Object.keys(requirement)
          .map((name) => schemeLabel(name, schemes[name]))
          .join(' + '),
      )
      .join(w.or);
  }

  /** An example body from the schema: defaults, required properties, `{}` otherwise. */
  function exampleOf(schema, depth = 0) {
    if (!schema || depth > 4) return null;
    if (schema.default !== undefined) return schema.default;
    if (schema.examples?.length) return schema.examples[0];
    if (schema.enum?.length) return schema.enum[0];
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    if (type === 'object' || schema.properties) {
      const out = {};
      for (const name of schema.required ?? []) out[name] = exampleOf(schema.properties?.[name], depth + 1);
      return out;
    }
    if (type === 'array') return schema.minItems ? [exampleOf(schema.items, depth + 1)] : [];
    if (type === 'string') return '';
    if (type === 'integer' || type === 'number') return schema.minimum ?? 0;
    if (type === 'boolean') return false;
    if (schema.anyOf?.length) return exampleOf(schema.anyOf[0], depth + 1);
    return null;
  }

  function tryItForm(method, path, op, schemes) {
    const parameters = op.parameters ?? [];
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    const inputs = parameters.map((p) => {
      const id = nextId('param');
      const input = el('input', {
        id,
        name: p.name,
        type: 'text',
        autocomplete: 'off',
        'data-in': p.in,
        required: p.in === 'path' ? true : undefined,
      });
      return {
        p,
        input,
        field: el(
          'div',
          { className: 'field' },
          el('label', { for: id }, `${p.name} (${p.in}${p.required ? `, ${w.required.toLowerCase()}` : ''})`),
          input,
        ),
      };
    });
    let bodyInput;
    let bodyField;
    if (bodySchema) {
      const id = nextId('body');
      bodyInput = el('textarea', { id, name: 'body', spellcheck: 'false', rows: '8' });
      bodyInput.value = op.requestBody.required ? pretty(exampleOf(bodySchema) ?? {}) : '';
      bodyField = el('div', { className: 'field' }, el('label', { for: id }, w.body), bodyInput);
    }
    const sendButton = el('button', { type: 'submit' }, w.send);
    const authNote = el('p', { className: 'hint auth-note' });
    const refreshAuthNote = () => {
      const scheme = pickScheme(op.security);
      authNote.textContent = `${w.auth}: ${securityText(op.security, schemes)}${
        scheme ? ` — ${w.authorized} (${schemeLabel(scheme, schemes[scheme])})` : ''
      }`;
    };
    authListeners.push(refreshAuthNote);
    refreshAuthNote();
    const result = el('div', { className: 'result', 'aria-live': 'polite' });
    const form = el(
      'form',
      { className: 'try-it', 'data-operation': op.operationId },
      el('h4', {}, w.tryIt),
      authNote,
      inputs.map((i) => i.field),
      bodyField,
      sendButton,
      result,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      result.replaceChildren();
      let url = path;
      const query = new URLSearchParams();
      for (const { p, input } of inputs) {
        const value = input.value;
        if (p.in === 'path') {
          if (!value) {
            result.append(el('p', { className: 'error', role: 'alert' }, w.missing(p.name)));
            input.focus();
            return;
          }
          url = url.replace(`{${p.name}}`, encodeURIComponent(value));
        } else if (p.in === 'query' && value !== '') {
          query.set(p.name, value);
        }
      }
      const qs = query.toString();
      if (qs) url += `?${qs}`;
      const headers = { accept: 'application/json' };
      const scheme = pickScheme(op.security);
      if (scheme) headers.authorization = `Bearer ${keys.get(scheme)}`;
      const init = { method: method.toUpperCase(), headers, credentials: 'omit' };
      if (bodyInput && bodyInput.value.trim() !== '') {
        try {
          JSON.parse(bodyInput.value);
        } catch (error) {
          result.append(el('p', { className: 'error', role: 'alert' }, w.badJson + error.message));
          return;
        }
        headers['content-type'] = 'application/json';
        init.body = bodyInput.value;
      }
      sendButton.disabled = true;
      sendButton.textContent = w.sending;
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        let shown = text;
        if ((res.headers.get('content-type') ?? '').includes('json') && text) {
          try {
            shown = pretty(JSON.parse(text));
          } catch {
            shown = text;
          }
        }
        result.append(
          el(
            'p',
            { className: `response-status ${res.ok ? 'ok' : 'bad'}`, 'data-status': res.status },
            `${w.status}: ${res.status} ${res.statusText}`.trim(),
          ),
          el('p', { className: 'hint' }, `${init.method} ${url}`),
          el('h5', {}, w.responseBody),
          el('pre', { className: 'response-body', tabindex: '0' }, el('code', {}, shown || w.empty)),
        );
      } catch (error) {
        result.append(el('p', { className: 'error', role: 'alert' }, w.failed + error.message));
      } finally {
        sendButton.disabled = false;
        sendButton.textContent = w.send;
      }
    });
    return form;
  }

  /** The first bearer scheme of the operation's security that the user authorized. */
  function pickScheme(security) {
    for (const requirement of security ?? []) {
      for (const name of Object.keys(requirement)) if (keys.has(name)) return name;
    }
    return undefined;
  }

  function operationBlock(method, path, op, schemes) {
    const id = `op-${op.operationId}`;
    const responses = Object.entries(op.responses ?? {});
    const body = op.requestBody?.content?.['application/json']?.schema;
    const details = el(
      'details',
      { className: `operation op-${method}`, id, 'data-method': method.toUpperCase(), 'data-path': path },
      el(
        'summary',
        {},
        el('span', { className: `method method-${method}` }, method.toUpperCase()),
        el('code', { className: 'path' }, path),
        el('span', { className: 'op-summary', lang: 'en' }, ...richText(op.summary ?? '')),
      ),
      el(
        'div',
        { className: 'op-body' },
        el('p', { lang: 'en' }, ...richText((op.description ?? '').split('\n\nResponses: ')[0])),
        el('p', {}, el('strong', {}, `${w.auth}: `), securityText(op.security, schemes)),
        op.parameters?.length ? [el('h4', {}, w.parameters), parametersTable(op.parameters)] : '',
        body ? [el('h4', {}, w.body), schemaBlock(w.schema, body)] : '',
        el('h4', {}, w.responses),
        el(
          'dl',
          { className: 'responses', lang: 'en' },
          responses.map(([status, response]) => {
            const schema = Object.values(response.content ?? {})[0]?.schema;
            return [
              el('dt', { className: `status-code s${status[0]}` }, status),
              el(
                'dd',
                {},
                ...richText(response.description),
                schema && !schema.$ref ? schemaBlock(w.schema, schema) : '',
              ),
            ];
          }),
        ),
        tryItForm(method, path, op, schemes),
      ),
    );
    return details;
  }

  // ---- The document ----

  function render(spec) {
    const schemes = spec.components?.securitySchemes ?? {};
    const byTag = new Map((spec.tags ?? []).map((t) => [t.name, { tag: t, ops: [] }]));
    for (const [path, item] of Object.entries(spec.paths ?? {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const name = op.tags?.[0] ?? 'default';
        if (!byTag.has(name)) byTag.set(name, { tag: { name }, ops: [] });
        byTag.get(name).ops.push({ method, path, op });
      }
    }
    const groups = [...byTag.values()].filter((g) => g.ops.length > 0);
    const filterId = nextId('filter');
    const filter = el('input', { id: filterId, type: 'search', autocomplete: 'off' });
    const nav = el(
      'nav',
      { 'aria-labelledby': 'toc-title', className: 'toc' },
      el('h2', { id: 'toc-title' }, w.contents),
      el(
        'ul',
        {},
        groups.map((g) =>
          el('li', {}, el('a', { href: `#tag-${slug(g.tag.name)}` }, `${g.tag.name} (${g.ops.length})`)),
        ),
      ),
      el('label', { for: filterId }, w.filter),
      filter,
    );
    const sections = groups.map((g) =>
      el(
        'section',
        { className: 'tag', id: `tag-${slug(g.tag.name)}`, 'aria-labelledby': `tag-${slug(g.tag.name)}-h` },
        el('h2', { id: `tag-${slug(g.tag.name)}-h`, lang: 'en' }, g.tag.name),
        g.tag.description ? el('p', { className: 'hint', lang: 'en' }, g.tag.description) : '',
        g.ops.map(({ method, path, op }) => operationBlock(method, path, op, schemes)),
      ),
    );
    filter.addEventListener('input', () => {
      const needle = filter.value.trim().toLowerCase();
      for (const section of sections) {
        let visible = 0;
        for (const op of section.querySelectorAll('details.operation')) {
          const text = `${op.dataset.method} ${op.dataset.path} ${op.querySelector('.op-summary')?.textContent ?? ''}`;
          op.hidden = needle !== '' && !text.toLowerCase().includes(needle);
          if (!op.hidden) visible++;
        }
        section.hidden = visible === 0;
      }
    });
    const info = el(
      'section',
      { className: 'card info', 'aria-labelledby': 'info-title' },
      el(
        'h2',
        { id: 'info-title', lang: 'en' },
        `${spec.info?.title ?? 'API'} ${spec.info?.version ?? ''}`.trim(),
      ),
      el('p', { lang: 'en' }, ...richText(spec.info?.description ?? '')),
      el('p', { className: 'hint' }, `OpenAPI ${spec.openapi}`),
    );
    app.replaceChildren(info, authorizeBox(schemes), nav, ...sections);
    if (location.hash) document.getElementById(location.hash.slice(1))?.setAttribute('open', '');
  }

  fetch(root.dataset.spec ?? '/openapi.json', { headers: { accept: 'application/json' } })
    .then((res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.json();
    })
    .then(render)
    .catch((error) => {
      app.replaceChildren(el('p', { className: 'error', role: 'alert' }, w.loadFailed + error.message));
    });
})();
