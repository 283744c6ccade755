// The phone view of the chat page (served as is; see ../chat-page.ts): plays the phone of a QR-mode
// business through the simulator's phone routes (they need no token): scan its QR, write to the
// linked number as a customer, list what the linked account sent (refreshed while the view is
// shown), and log out from the phone. Every text is set with textContent, never parsed as HTML.

const $ = (id) => document.getElementById(id);
const SENT_REFRESH_MS = 2000;

const tabs = { chat: $('tab-chat'), phone: $('tab-phone') };
const views = { chat: $('chat-view'), phone: $('phone-view') };
const number = $('phone-number');
const qr = $('phone-qr');
const from = $('phone-from');
const message = $('phone-text');
const statusLine = $('phone-status');
const sentList = $('phone-sent');
let sentTimer = null;
let lastSent = '';

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

function say(text, isError) {
  statusLine.textContent = text || '';
  statusLine.classList.toggle('error', Boolean(isError));
}

/** A phone route: JSON in and out; a refusal's message (or its HTTP status) is thrown. */
async function phone(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new Error(data?.message ? String(data.message) : `HTTP ${response.status}`);
  return data;
}

const linkedNumber = () => number.value.trim();

function requireNumber() {
  if (linkedNumber()) return true;
  say('Enter the linked phone number first.', true);
  number.focus();
  return false;
}

function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function renderSent(items) {
  const signature = JSON.stringify(items);
  if (signature === lastSent) return;
  lastSent = signature;
  sentList.replaceChildren(
    ...(items.length === 0
      ? [
          Object.assign(document.createElement('li'), {
            className: 'empty',
            textContent: 'Nothing sent yet.',
          }),
        ]
      : items.map((item) => {
          const li = document.createElement('li');
          const to = document.createElement('strong');
          to.textContent = `To ${String(item.to ?? '')}: `;
          const body = document.createElement('span');
          body.textContent = String(item.text ?? '');
          const meta = document.createElement('span');
          meta.className = 'meta';
          meta.textContent = time(item.at);
          li.append(to, body, meta);
          return li;
        })),
  );
}

async function loadSent() {
  const who = linkedNumber();
  if (!who) {
    renderSent([]);
    return;
  }
  try {
    const data = await phone('GET', `/simulator/phone/sent?phone_number=${encodeURIComponent(who)}`);
    const items = Array.isArray(data) ? data : Array.isArray(data?.sent) ? data.sent : [];
    renderSent(items);
  } catch (error) {
    say(`Sent: ${error.message}`, true);
  }
}

function scheduleSent() {
  clearTimeout(sentTimer);
  sentTimer = null;
  if (views.phone.classList.contains('hidden')) return;
  sentTimer = setTimeout(async () => {
    await loadSent();
    scheduleSent();
  }, SENT_REFRESH_MS);
}

function showView(name) {
  for (const key of Object.keys(views)) {
    views[key].classList.toggle('hidden', key !== name);
    tabs[key].setAttribute('aria-pressed', String(key === name));
  }
  store('view', name);
  if (name === 'phone') {
    loadSent();
    scheduleSent();
  } else {
    clearTimeout(sentTimer);
    sentTimer = null;
  }
}

async function act(button, action) {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    say(error.message, true);
  } finally {
    button.disabled = false;
  }
}

$('phone-scan').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!requireNumber()) return;
  const code = qr.value.trim();
  if (!code) {
    say('Paste the QR text to scan.', true);
    qr.focus();
    return;
  }
  act($('phone-scan-button'), async () => {
    await phone('POST', '/simulator/phone/scan', { qr: code, phone_number: linkedNumber() });
    qr.value = '';
    say(`Scanned: ${linkedNumber()} is linking.`);
  });
});

$('phone-logout').addEventListener('click', () => {
  if (!requireNumber()) return;
  act($('phone-logout'), async () => {
    await phone('POST', '/simulator/phone/logout', { phone_number: linkedNumber() });
    say(`Logged out from the phone ${linkedNumber()}.`);
  });
});

$('phone-receive').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!requireNumber()) return;
  const customer = from.value.replace(/[^0-9]/g, '');
  const text = message.value;
  if (!customer || !text.trim()) {
    say('Enter the customer’s number and a message.', true);
    (customer ? message : from).focus();
    return;
  }
  act($('phone-send'), async () => {
    await phone('POST', '/simulator/phone/receive', { phone_number: linkedNumber(), from: customer, text });
    message.value = '';
    say(`Sent to ${linkedNumber()} as ${customer}.`);
    await loadSent();
  });
});

number.addEventListener('change', () => {
  store('linked', linkedNumber());
  lastSent = '';
  loadSent();
});
from.addEventListener('change', () => store('customer', from.value.replace(/[^0-9]/g, '')));
tabs.chat.addEventListener('click', () => showView('chat'));
tabs.phone.addEventListener('click', () => showView('phone'));

number.value = stored('linked', '');
from.value = stored('customer', '34611222333');
showView(stored('view', 'chat') === 'phone' ? 'phone' : 'chat');
