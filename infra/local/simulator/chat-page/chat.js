// The chat page of the WhatsApp simulator (served as is; see ../chat-page.ts). Every piece of user
// or bot text is set with textContent, never parsed as HTML.

const $ = (id) => document.getElementById(id);
const business = $('business');
const other = $('other');
const otherWrap = $('other-wrap');
const phone = $('phone');
const nameInput = $('name');
const log = $('log');
const typing = $('typing');
const errorBox = $('error');
const text = $('text');
const sendButton = $('send');
const subtitle = $('subtitle');
const OTHER = '__other__';
let lastSignature = '';

// The chat API's per-run token, from the page's meta tag (the server inserts it; no inline script).
const token = document.querySelector('meta[name="simulator-token"]').getAttribute('content');

function api(path, init = {}) {
  return fetch(path, { ...init, headers: { 'x-simulator-token': token, ...(init.headers || {}) } });
}

function stored(key, fallback) {
  try {
    return localStorage.getItem(`wa-sim.${key}`) || fallback;
  } catch {
    return fallback;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(`wa-sim.${key}`, value);
  } catch {
    // private mode
  }
}

function showError(message) {
  errorBox.textContent = message || '';
  errorBox.classList.toggle('hidden', !message);
}

function phoneNumberId() {
  return business.value === OTHER || !business.value ? other.value.trim() : business.value;
}

function contact() {
  return phone.value.replace(/[^0-9]/g, '');
}

function addOption(value, label) {
  const option = document.createElement('option');
  option.value = value;
  option.textContent = label;
  business.appendChild(option);
}

function loadBusinesses() {
  return api('/simulator/api/businesses')
    .then((response) => (response.ok ? response.json() : { businesses: [] }))
    .catch(() => ({ businesses: [] }))
    .then((data) => {
      const list = Array.isArray(data.businesses) ? data.businesses : [];
      business.textContent = '';
      for (const b of list) addOption(String(b.phone_number_id), `${b.name} · ${b.phone_number_id}`);
      addOption(OTHER, list.length ? 'Other phone_number_id…' : 'Enter a phone_number_id…');
      const saved = stored('business', '');
      const known = list.some((b) => String(b.phone_number_id) === saved);
      business.value = known ? saved : list.length ? String(list[0].phone_number_id) : OTHER;
      if (!known && saved) {
        business.value = OTHER;
        other.value = saved;
      }
      onBusinessChange();
    });
}

function onBusinessChange() {
  otherWrap.classList.toggle('hidden', business.value !== OTHER);
  const option = business.options[business.selectedIndex];
  subtitle.textContent =
    business.value === OTHER
      ? `phone_number_id ${other.value.trim() || '—'}`
      : option
        ? option.textContent
        : '';
  store('business', phoneNumberId());
  lastSignature = '';
  poll();
}

function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function ticksFor(m) {
  const ticks = document.createElement('span');
  if (m.webhookStatus !== undefined && m.webhookStatus !== 200) {
    ticks.className = 'warn';
    ticks.textContent = m.webhookStatus === 0 ? '⚠ webhook unreachable' : `⚠ webhook HTTP ${m.webhookStatus}`;
  } else if (m.read) {
    ticks.className = 'read';
    ticks.textContent = '✓✓';
  } else {
    ticks.textContent = m.webhookStatus === 200 ? '✓✓' : '✓';
  }
  return ticks;
}

function render(messages, isTyping) {
  typing.textContent = isTyping ? 'typing…' : '';
  const signature = JSON.stringify(messages.map((m) => [m.seq, m.read, m.webhookStatus]));
  if (signature === lastSignature) return;
  lastSignature = signature;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.textContent = '';
  if (!messages.length) {
    const empty = document.createElement('div');
    empty.className = 'empty';
    empty.textContent = 'No messages yet. Pick a business, enter your phone and say hello.';
    log.appendChild(empty);
    return;
  }
  for (const m of messages) {
    const fromCustomer = m.direction === 'in';
    const bubble = document.createElement('div');
    bubble.className = `msg ${fromCustomer ? 'customer' : 'bot'}`;
    const body = document.createElement('span');
    body.textContent = String(m.text);
    bubble.appendChild(body);
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.appendChild(document.createTextNode(`${time(m.at)} `));
    if (fromCustomer) meta.appendChild(ticksFor(m));
    bubble.appendChild(meta);
    log.appendChild(bubble);
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
}

let polling = false;
function poll() {
  const id = phoneNumberId();
  const who = contact();
  if (!id || !who) {
    render([], false);
    return;
  }
  if (polling) return;
  polling = true;
  const query = `?phone_number_id=${encodeURIComponent(id)}&contact=${encodeURIComponent(who)}`;
  api(`/simulator/api/conversation${query}`)
    .then((response) =>
      response.json().then((data) => {
        if (!response.ok) throw new Error(data?.message ? data.message : `HTTP ${response.status}`);
        render(Array.isArray(data.messages) ? data.messages : [], data.typing === true);
      }),
    )
    .catch((error) => showError(`Conversation: ${error.message}`))
    .then(() => {
      polling = false;
    });
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const message = text.value;
  if (!message.trim()) return;
  const payload = { phone_number_id: phoneNumberId(), from: contact(), text: message };
  if (nameInput.value.trim()) payload.name = nameInput.value.trim();
  sendButton.disabled = true;
  api('/simulator/api/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  })
    .then((response) =>
      response.json().then((data) => {
        if (!response.ok) throw new Error(data?.message ? data.message : `HTTP ${response.status}`);
        showError(data.webhook_status === 200 ? '' : `The webhook answered HTTP ${data.webhook_status}`);
        text.value = '';
        lastSignature = '';
        poll();
      }),
    )
    .catch((error) => showError(error.message))
    .then(() => {
      sendButton.disabled = false;
      text.focus();
    });
});
text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('composer').requestSubmit();
  }
});
business.addEventListener('change', onBusinessChange);
other.addEventListener('change', onBusinessChange);
phone.addEventListener('change', () => {
  store('phone', contact());
  lastSignature = '';
  poll();
});
nameInput.addEventListener('change', () => store('name', nameInput.value.trim()));

phone.value = stored('phone', '34600111222');
nameInput.value = stored('name', '');
loadBusinesses();
setInterval(poll, 1000);
