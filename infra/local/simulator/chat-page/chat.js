// The chat page of the WhatsApp simulator (served as is; see ../chat-page.ts). Every piece of user
// or bot text is set with textContent, never parsed as HTML. A file attached is sent as the customer's
// audio (a voice note when it is Ogg and the box is ticked), photo or document, with the text as its
// caption; the timeline shows it from a blob: URL of its bytes (fetched with the token).

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
const attachInput = $('attach');
const attachment = $('attachment');
const attachmentName = $('attachment-name');
const voiceWrap = $('voice-wrap');
const voice = $('voice');
const OTHER = '__other__';
let lastSignature = '';
let pendingFile = null;
// What WhatsApp sends as audio or as a photo (Meta's types, lib/media/media-download.ts); any other
// file goes as a document, as the WhatsApp app does.
const AUDIO_TYPES = ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'];
const IMAGE_TYPES = ['image/jpeg', 'image/png'];
const KIND_LABELS = { audio: 'Audio', image: 'Photo', document: 'Document' };

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

function customer() {
  const payload = { phone_number_id: phoneNumberId(), from: contact() };
  if (nameInput.value.trim()) payload.name = nameInput.value.trim();
  return payload;
}

/** POSTs JSON to the chat API; a refusal's message (or its HTTP status) is thrown. */
function postJson(path, payload) {
  return api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  }).then((response) =>
    response
      .json()
      .catch(() => ({}))
      .then((data) => {
        if (!response.ok) throw new Error(data?.message ? data.message : `HTTP ${response.status}`);
        return data;
      }),
  );
}

const mimeOf = (file) => (file.type || 'application/octet-stream').split(';')[0].trim().toLowerCase();

function kindOf(file) {
  const type = mimeOf(file);
  if (IMAGE_TYPES.includes(type)) return 'image';
  return AUDIO_TYPES.includes(type) ? 'audio' : 'document';
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Shows the file about to be sent (or none): an Ogg audio is a voice note unless unticked. */
function choose(file) {
  pendingFile = file || null;
  attachment.classList.toggle('hidden', !pendingFile);
  if (!pendingFile) {
    attachInput.value = '';
    voiceWrap.classList.add('hidden');
    voice.checked = false;
    return;
  }
  const kind = kindOf(pendingFile);
  attachmentName.textContent = `${KIND_LABELS[kind]}: ${pendingFile.name} (${size(pendingFile.size)})`;
  const ogg = kind === 'audio' && mimeOf(pendingFile) === 'audio/ogg';
  voiceWrap.classList.toggle('hidden', !ogg);
  voice.checked = ogg;
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(new Error(`Could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

/** Sends the file as the customer; the text is its caption (audio has none: it follows as a text). */
async function sendFile(file, caption) {
  const kind = kindOf(file);
  const payload = { ...customer(), kind, mime_type: mimeOf(file), data: await base64Of(file) };
  if (kind === 'audio') payload.voice = voice.checked && !voiceWrap.classList.contains('hidden');
  if (kind !== 'audio' && caption.trim()) payload.caption = caption;
  if (kind === 'document') payload.filename = file.name;
  const sent = await postJson('/simulator/api/media', payload);
  if (kind === 'audio' && caption.trim()) return sendText(caption);
  return sent;
}

function sendText(message) {
  return postJson('/simulator/api/messages', { ...customer(), text: message });
}

// Each media's bytes are fetched once (with the token) and shown from a blob: URL.
const mediaUrls = new Map();
function mediaUrl(id) {
  if (!mediaUrls.has(id)) {
    const loading = api(`/simulator/api/media?id=${encodeURIComponent(id)}`)
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.blob();
      })
      .then((blob) => URL.createObjectURL(blob));
    mediaUrls.set(id, loading);
    loading.catch(() => mediaUrls.delete(id));
  }
  return mediaUrls.get(id);
}

/** A photo, an audio player or a file chip; its source arrives when the bytes have. */
function mediaElement(media) {
  const show = (element, property) => {
    mediaUrl(String(media.id))
      .then((url) => {
        element[property] = url;
      })
      .catch(() => undefined);
    return element;
  };
  const details = `${media.mimeType} · ${size(Number(media.size) || 0)}`;
  if (media.kind === 'image') {
    const image = document.createElement('img');
    image.className = 'media';
    image.alt = `Photo (${details})`;
    return show(image, 'src');
  }
  if (media.kind === 'audio') {
    const wrap = document.createElement('span');
    wrap.className = 'media';
    const label = document.createElement('span');
    label.className = 'media-label';
    label.textContent = `${media.voice ? 'Voice note' : 'Audio'} · ${details}`;
    const audio = document.createElement('audio');
    audio.className = 'media';
    audio.controls = true;
    audio.preload = 'metadata';
    audio.setAttribute('aria-label', media.voice ? 'Voice note' : 'Audio');
    wrap.append(label, show(audio, 'src'));
    return wrap;
  }
  const link = document.createElement('a');
  link.className = 'chip media';
  link.textContent = `Document: ${String(media.filename || 'document')} · ${details}`;
  link.download = String(media.filename || 'document');
  return show(link, 'href');
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
    if (m.media) bubble.appendChild(mediaElement(m.media));
    if (!m.media || m.text) {
      const body = document.createElement('span');
      body.textContent = String(m.text);
      bubble.appendChild(body);
    }
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
  const file = pendingFile;
  if (!file && !message.trim()) return;
  sendButton.disabled = true;
  (file ? sendFile(file, message) : sendText(message))
    .then((data) => {
      showError(data.webhook_status === 200 ? '' : `The webhook answered HTTP ${data.webhook_status}`);
      text.value = '';
      if (file) choose(null);
      lastSignature = '';
      poll();
    })
    .catch((error) => showError(error.message))
    .then(() => {
      sendButton.disabled = false;
      text.focus();
    });
});
attachInput.addEventListener('change', () => {
  choose(attachInput.files?.[0]);
  if (pendingFile) text.focus();
});
$('attachment-remove').addEventListener('click', () => {
  choose(null);
  attachInput.focus();
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
