// framecast viewer: one websocket per room, binary frames are envelopes (see packages/protocol),
// text frames are JSON control messages. Latest frame wins here too: while one JPEG decodes,
// only the newest arrival waits, so a slow tab never builds a backlog.
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const pathRoom = location.pathname.match(/^\/rooms\/([^/]+)/);
const room = (pathRoom && decodeURIComponent(pathRoom[1])) || params.get('room') || 'demo';
$('room').textContent = room;
$('room-input').value = room;
$('pick').addEventListener('submit', (e) => {
  e.preventDefault();
  location.href = `/rooms/${encodeURIComponent($('room-input').value.trim())}`;
});

const canvas = $('video');
const ctx = canvas.getContext('2d');
const MAGIC = 0x46435354; // "FCST"
const stats = { painted: 0, skipped: 0, lastSeq: null, latencies: [] };
window.framecastStats = stats; // read by the browser test

function decodeHeader(buf) {
  if (buf.byteLength < 32) return null;
  const v = new DataView(buf);
  if (v.getUint32(0) !== MAGIC || v.getUint8(4) !== 1) return null;
  const headerLength = v.getUint16(8);
  const payloadLength = v.getUint32(28);
  if (headerLength < 32 || headerLength + payloadLength !== buf.byteLength) return null;
  return {
    sequence: v.getUint32(12),
    captureTimeUs: v.getUint32(16) * 2 ** 32 + v.getUint32(20),
    width: v.getUint16(24),
    height: v.getUint16(26),
    payload: new Uint8Array(buf, headerLength, payloadLength),
  };
}

let pending = null;
let decoding = false;
async function paint() {
  if (decoding || !pending) return;
  const frame = pending;
  pending = null;
  decoding = true;
  try {
    const bitmap = await createImageBitmap(new Blob([frame.payload], { type: 'image/jpeg' }));
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    stats.painted++;
    stats.latencies.push(Date.now() - frame.captureTimeUs / 1000);
    $('seq').textContent = frame.sequence;
    $('size').textContent = `${frame.width}×${frame.height} ${(frame.payload.byteLength / 1024).toFixed(1)} KB`;
  } catch {
    // A corrupt JPEG is skipped; the next frame replaces it.
  } finally {
    decoding = false;
    if (pending) void paint();
  }
}

function onFrame(buf) {
  const frame = decodeHeader(buf);
  if (!frame) return;
  if (stats.lastSeq !== null && frame.sequence > stats.lastSeq + 1) stats.skipped += frame.sequence - stats.lastSeq - 1;
  stats.lastSeq = frame.sequence;
  if (pending) stats.skipped++;
  pending = frame;
  void paint();
}

let lastPainted = 0;
setInterval(() => {
  $('fps').textContent = stats.painted - lastPainted;
  lastPainted = stats.painted;
  const l = stats.latencies.splice(0).sort((a, b) => a - b);
  $('latency').textContent = l.length ? `${Math.round(l[Math.floor(l.length / 2)])} (p50) / ${Math.round(l[l.length - 1])} (max)` : '–';
  $('skipped').textContent = stats.skipped;
}, 1000);

// Close codes 4000–4499 mean the request is wrong (do not retry); others reconnect with backoff.
const shouldReconnect = (code) => !(code >= 4000 && code < 4500) && code !== 1000 && code !== 1009;
let backoff = 250;
function setState(state, text) {
  $('state').dataset.state = state;
  $('state').textContent = text ?? state;
}

// The viewer token lives in the URL fragment (`#token=…`), which browsers never send to servers,
// and goes to the gateway in the Sec-WebSocket-Protocol header, never in a URL: so it stays out
// of access logs, proxies and the history of every page but this one. A `?token=` in the page URL
// (old links) was sent with the page request already; it is moved to the fragment at once.
const TOKEN_PROTOCOL = 'framecast.token.';
let token = new URLSearchParams(location.hash.slice(1)).get('token') || params.get('token') || '';
if (params.has('token')) {
  params.delete('token');
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}#token=${encodeURIComponent(token)}`);
}
window.addEventListener('hashchange', () => {
  const next = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  if (next && next !== token) {
    token = next;
    reconnectNow();
  }
});

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  $('token-input').value = '';
  $('token-form').hidden = true;
  // Keep it in the fragment so a reload keeps watching; never in the query.
  history.replaceState(null, '', `${location.pathname}${location.search}#token=${encodeURIComponent(token)}`);
  reconnectNow();
});

let socket = null;
function reconnectNow() {
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
  backoff = 250;
  connect();
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const protocols = ['framecast.v1'];
  if (token) protocols.push(TOKEN_PROTOCOL + token);
  const ws = new WebSocket(`${scheme}://${location.host}/ws/video/${encodeURIComponent(room)}`, protocols);
  socket = ws;
  ws.binaryType = 'arraybuffer';
  let lastError = null;
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') {
      backoff = 250;
      setState('live');
      return onFrame(e.data);
    }
    const msg = JSON.parse(e.data);
    if (msg.type === 'hello') $('gateway').textContent = msg.server.id;
    if (msg.type === 'error') lastError = msg;
  };
  ws.onopen = () => setState('open', 'waiting for frames');
  ws.onclose = (e) => {
    if (e.code === 4401) {
      // A private room, or a token that ran out: ask for one instead of giving up silently.
      $('token-form').hidden = false;
      $('token-why').textContent = lastError?.message || e.reason || 'a viewer token is required';
      return setState('error', lastError?.error === 'token_expired' ? 'token expired' : 'private room');
    }
    if (!shouldReconnect(e.code)) return setState('error', `closed: ${lastError?.message || e.reason || e.code}`);
    setState('closed', `reconnecting (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
    setTimeout(connect, e.code === 1012 ? 0 : backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
}
connect();

// The room list comes from the registry's API when it answers on this origin (the embedded
// default mounts it under /api; a deployment can route /api to the registry). Without it the
// list stays hidden and the page works as before.
async function listRooms() {
  try {
    const res = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const { rooms } = await res.json();
    const nav = $('rooms');
    nav.replaceChildren(
      ...rooms.map((r) => {
        const a = document.createElement('a');
        // The fragment (and the token in it, for tokens that open several rooms) goes along.
        a.href = `/rooms/${encodeURIComponent(r.name)}${location.hash}`;
        a.className = r.live ? 'live' : 'off';
        a.dataset.room = r.name;
        a.textContent = `${r.title} · ${r.viewers.total} watching`;
        a.title = r.live ? `${r.cameras.length} camera(s), ${r.cameras.map((c) => `${c.width}×${c.height} ${c.fps} fps`).join(', ')}` : 'offline';
        if (r.name === room) a.setAttribute('aria-current', 'page');
        return a;
      }),
    );
    nav.hidden = rooms.length === 0;
  } catch {
    // No registry here: keep the list hidden.
  }
}
void listRooms();
setInterval(listRooms, 5000);
