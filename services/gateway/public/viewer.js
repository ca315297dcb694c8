// framecast viewer: one websocket per room, binary frames are envelopes (see packages/protocol),
// text frames are JSON control messages. Latest frame wins here too: while one JPEG decodes,
// only the newest arrival waits, so a slow tab never builds a backlog.
// Decoding and the reconnect rule come from @framecast/protocol's browser module (served as
// /protocol.js), the same rules the services use, never a copy.
import { CloseCode, TOKEN_SUBPROTOCOL_PREFIX, VIEWER_SUBPROTOCOL, decodeEnvelope, shouldReconnect } from '/protocol.js';

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
$('fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void $('screen').requestFullscreen?.();
});
const ctx = canvas.getContext('2d');
// skipped = gaps (frames the gateway did not send this page) + replaced (frames the page did not paint).
const stats = { painted: 0, skipped: 0, gaps: 0, replaced: 0, lastSeq: null, latencies: [] };
window.framecastStats = stats; // read by the browser tests

// "Skipped" counts the frames this page missed while it was receiving live frames, and only
// those. A join used to show "skipped 1" or more: the first frame of a connection is usually the
// room's kept frame (the live stream goes on from wherever the camera is by then), and the first
// frames arrive while the page is still starting up and decoding its first JPEG (slow: the
// decoder starts), so they come in a burst and replace one another before one is painted. Neither
// is a frame the viewer missed while watching. So a stream starts with each connection and again
// when frames come back after the room was offline (a restarted camera bursts the same way), and
// sequence gaps count from the stream's second frame, unpainted frames from a second after its first.
const CATCH_UP_MS = 1000;
const newConnection = () => ({ openedAt: Date.now(), lastFrameAt: 0, lastSeq: null, streamFrames: 0, streamStartAt: 0 });
let conn = newConnection();
let frameGapMs = 0; // smoothed time between frames, for telling a slow camera from a stopped one
let lastPaintedCaptureMs = 0; // capture time of the frame on the canvas
let registryLive = null; // the registry's `live` for this room; null while unknown (not listed, no registry)
let socket = null;

/** The frame in an envelope, or null for anything malformed (dropped; the next frame replaces it). */
function decodeFrame(buf) {
  try {
    const { header, payload } = decodeEnvelope(buf); // payload: a view into buf, no copy
    return { sequence: header.sequence, captureTimeUs: header.captureTimeUs, width: header.width, height: header.height, payload };
  } catch {
    return null; // an EnvelopeError
  }
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
    lastPaintedCaptureMs = frame.captureTimeUs / 1000;
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
  const frame = decodeFrame(buf);
  if (!frame) return;
  const now = Date.now();
  const gap = conn.lastFrameAt ? now - conn.lastFrameAt : Infinity;
  if (gap >= offlineAfterMs()) {
    // The connection's first frame, or the first after the room was offline: a stream starts.
    conn.streamFrames = 0;
    conn.streamStartAt = now;
  } else {
    // The camera's pace (a pause long enough to count as offline is an outage, not its pace).
    frameGapMs = frameGapMs ? 0.9 * frameGapMs + 0.1 * gap : gap;
  }
  conn.lastFrameAt = now;
  conn.streamFrames++;
  // A gap in the sequence is frames the gateway did not send us (it skips for a slow viewer).
  // A sequence going back is a restarted camera.
  if (conn.streamFrames > 2 && frame.sequence > conn.lastSeq + 1) {
    stats.gaps += frame.sequence - conn.lastSeq - 1;
    stats.skipped += frame.sequence - conn.lastSeq - 1;
  }
  conn.lastSeq = stats.lastSeq = frame.sequence;
  // Latest frame wins: a frame still waiting for the decoder is replaced, so it is never painted.
  if (pending && now - conn.streamStartAt >= CATCH_UP_MS) {
    stats.replaced++;
    stats.skipped++;
  }
  pending = frame;
  void paint();
  refreshState();
}

// What the room is doing, from what arrives: frames are the truth, the registry's `live` flag
// (from the room list) only makes the verdict quicker. A room without a frame for a while is
// offline: the page says so over the last frame, dimmed, instead of showing a silent black box.
function offlineAfterMs() {
  // 3 s, or five frame intervals of a slow camera (at most 30 s).
  return registryLive === false ? 1500 : Math.min(30_000, Math.max(3000, 5 * frameGapMs));
}

function refreshState() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return; // connecting, closed: set by the socket's handlers
  const since = conn.lastFrameAt || conn.openedAt;
  const quiet = Date.now() - since;
  // One frame is not a stream: the first frame of a connection is usually the room's kept frame.
  if (quiet < offlineAfterMs() && (conn.streamFrames >= 2 || (conn.streamFrames === 1 && registryLive === true))) setState('live');
  else if (quiet < offlineAfterMs()) setState('open', 'waiting for frames');
  else setState('offline', 'offline, waiting for the camera');
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** The message over the canvas: shown in every state but live; the last frame stays, dimmed. */
function renderOverlay() {
  const state = $('state').dataset.state;
  const quietStart = state === 'open' || state === 'connecting';
  // While a connection starts, a frame already on the canvas says enough.
  const show = state !== 'live' && !(quietStart && stats.painted > 0);
  $('overlay').hidden = !show;
  canvas.classList.toggle('dim', show && stats.painted > 0);
  if (!show) return;
  $('overlay-title').textContent = $('state').textContent;
  $('overlay-detail').textContent =
    state === 'offline' ? (lastPaintedCaptureMs ? `last frame ${clock(lastPaintedCaptureMs)} (${ago(lastPaintedCaptureMs)})` : 'no frame from this camera yet') : '';
}

let lastPainted = 0;
setInterval(() => {
  $('fps').textContent = stats.painted - lastPainted;
  lastPainted = stats.painted;
  const l = stats.latencies.splice(0).sort((a, b) => a - b);
  $('latency').textContent = l.length ? `${Math.round(l[Math.floor(l.length / 2)])} (p50) / ${Math.round(l[l.length - 1])} (max)` : '–';
  $('skipped').textContent = stats.skipped;
  $('skipped').title = `${stats.gaps} not sent by the gateway (this page fell behind), ${stats.replaced} not painted (decoding fell behind)`;
  refreshState();
  renderOverlay();
}, 1000);

// Close codes 4000–4499 mean the request is wrong (do not retry); others reconnect with backoff
// (shouldReconnect, from the protocol module).
let backoff = 250;
function setState(state, text) {
  const label = text ?? state;
  if ($('state').dataset.state === state && $('state').textContent === label) return;
  $('state').dataset.state = state;
  $('state').textContent = label;
  renderOverlay();
}

// The viewer token lives in the URL fragment (`#token=…`), which browsers never send to servers,
// and goes to the gateway in the Sec-WebSocket-Protocol header, never in a URL: so it stays out
// of access logs, proxies and the history of every page but this one. A `?token=` in the page URL
// (old links) was sent with the page request already; it is moved to the fragment at once.
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
  const protocols = [VIEWER_SUBPROTOCOL];
  if (token) protocols.push(TOKEN_SUBPROTOCOL_PREFIX + token);
  const ws = new WebSocket(`${scheme}://${location.host}/ws/video/${encodeURIComponent(room)}`, protocols);
  socket = ws;
  ws.binaryType = 'arraybuffer';
  let lastError = null;
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') {
      backoff = 250;
      return onFrame(e.data);
    }
    const msg = JSON.parse(e.data);
    if (msg.type === 'hello') {
      $('gateway').textContent = msg.server.id;
      joined();
    }
    if (msg.type === 'error') lastError = msg;
  };
  ws.onopen = () => {
    conn = newConnection();
    setState('open', 'waiting for frames');
  };
  ws.onclose = (e) => {
    if (e.code === CloseCode.Unauthorized) {
      // A private room, or a token that ran out: ask for one instead of giving up silently.
      $('token-form').hidden = false;
      $('token-why').textContent = lastError?.message || e.reason || 'a viewer token is required';
      return setState('error', lastError?.error === 'token_expired' ? 'token expired' : 'private room');
    }
    if (!shouldReconnect(e.code)) return setState('error', `closed: ${lastError?.message || e.reason || e.code}`);
    setState('closed', `reconnecting (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
    // Full jitter, so the viewers of a restarted gateway do not all come back in the same instant;
    // a restarting gateway (1012) is left at once (within half a second) for another replica.
    setTimeout(connect, e.code === CloseCode.ServiceRestart ? Math.random() * 500 : backoff / 2 + Math.random() * (backoff / 2));
    backoff = Math.min(backoff * 2, 5000);
  };
}
connect();

// The room list comes from the registry's API when it answers on this origin (the embedded
// default mounts it under /api; a deployment can route /api to the registry). Without it the
// list stays hidden and the page works as before.
//
// The counts include this page once the registry knows it: gateways write joins in batches
// (FRAMECAST_PRESENCE_FLUSH_MS, 1 s by default), so the list fetched at page load, before the
// socket even opened, said "0 watching" for the 5 s until the next poll. Now the list is fetched
// again shortly after each join, and every second while this room still shows no viewer at all.
const ROOMS_EVERY_MS = 5000;
let roomsTimer = 0;
let roomsDueAt = 0;
let joinedAt = 0;
let quickPolls = 0;
/** Fetches the list in `ms`, unless a fetch is already due sooner (a join during a fetch asks for one). */
function listRoomsIn(ms) {
  const due = Date.now() + ms;
  if (roomsTimer && roomsDueAt <= due) return;
  clearTimeout(roomsTimer);
  roomsDueAt = due;
  roomsTimer = setTimeout(() => {
    roomsTimer = 0;
    void listRooms();
  }, ms);
}

function joined() {
  joinedAt = Date.now();
  quickPolls = 2;
  listRoomsIn(1200);
}

async function listRooms() {
  let next = ROOMS_EVERY_MS;
  if (quickPolls > 0) {
    quickPolls--;
    next = 1300;
  }
  try {
    const res = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const { rooms } = await res.json();
    const mine = rooms.find((r) => r.name === room);
    registryLive = mine ? mine.live : null;
    // Watching, yet not counted: the gateway has not written this join yet.
    if (mine && mine.viewers.total === 0 && socket?.readyState === WebSocket.OPEN && Date.now() - joinedAt < 15_000) next = Math.min(next, 1000);
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
    refreshState();
  } catch {
    // No registry here: keep the list hidden.
  } finally {
    listRoomsIn(next);
  }
}
void listRooms();
