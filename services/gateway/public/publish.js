// The "go live" page: this tab's camera (getUserMedia), drawn to a canvas at the chosen rate and
// size, encoded to JPEG in the page (OffscreenCanvas.convertToBlob, or canvas.toBlob), wrapped in
// an envelope (encodeEnvelope from /protocol.js, the same bytes as the services' encoder) and sent
// to the gateway's /ws/publish/<room>, which checks it and publishes it like a capture agent.
//
// Latest frame wins: a frame is taken only when the previous one has left the socket
// (bufferedAmount 0) and is no longer encoding, so a slow uplink skips frames instead of queueing
// them: at most one frame is ever waiting. Close codes come from the protocol's table:
// 4000–4499 are refusals (shown, with the token form for 4401), others reconnect with backoff.
import { CloseCode, TOKEN_SUBPROTOCOL_PREFIX, VIEWER_SUBPROTOCOL, encodeEnvelope, shouldReconnect } from '/protocol.js';

const $ = (id) => document.getElementById(id);
const pathRoom = location.pathname.match(/^\/publish\/([^/]+)/);
const room = pathRoom ? decodeURIComponent(pathRoom[1]) : '';

// What the tests (and a curious user's console) read.
const stats = { state: 'idle', sent: 0, skipped: 0, dropped: 0, notes: [], lastError: null, encodeMs: 0, bytes: 0 };
window.framecastPublish = stats;

$('pick').addEventListener('submit', (e) => {
  e.preventDefault();
  location.href = `/publish/${encodeURIComponent($('room-input').value.trim())}`;
});
$('room-input').value = room;
$('room').textContent = room || '(pick a room)';
$('watch').href = room ? `/rooms/${encodeURIComponent(room)}` : '/';
$('watch').textContent = room ? `watch it at /rooms/${room}` : 'rooms';

// The token lives in the URL fragment (`#token=…`), which browsers never send to servers, and goes
// to the gateway in the Sec-WebSocket-Protocol header.
let token = new URLSearchParams(location.hash.slice(1)).get('token') || '';

function setState(state, detail = '') {
  stats.state = state;
  $('state').dataset.state = state;
  $('state').textContent = state;
  $('detail').textContent = detail;
}

let stream = null;
let socket = null;
let running = false; // the user wants to be live (until stop or a refusal)
let backoff = 250;
let reconnectTimer = 0;
let captureTimer = 0;
let encoding = false;
let sequence = 0;
let maxFps = 30; // the gateway says its own in hello
let notesShown = 0;

function chosenFps() {
  return Math.min(Number($('fps').value) || 10, maxFps);
}
function chosenSize() {
  const [w, h] = $('size').value.split('x').map(Number);
  return { width: w, height: h };
}

async function start() {
  if (!room) return setState('error', 'pick a room first');
  running = true;
  $('stop').disabled = false;
  $('token-form').hidden = true;
  if (!stream) {
    if (!navigator.mediaDevices?.getUserMedia) {
      running = false;
      return setState('error', 'this browser gives the camera only to secure pages: open this page over https:// (or on localhost)');
    }
    setState('starting', 'asking for the camera');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    } catch (err) {
      running = false;
      $('token-form').hidden = false;
      return setState('error', `no camera: ${err.message || err.name}`);
    }
    $('preview').srcObject = stream;
    await $('preview').play().catch(() => {});
  }
  void connect();
}

function stop(why = 'stopped') {
  running = false;
  clearTimeout(reconnectTimer);
  clearTimeout(captureTimer);
  void dropSocket();
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  $('preview').srcObject = null;
  $('stop').disabled = true;
  $('token-form').hidden = false;
  setState('stopped', why);
}

/** Closes the current socket, if any, and resolves once it is closed (2 s at most). */
function dropSocket() {
  const old = socket;
  socket = null;
  if (!old || old.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    old.onclose = () => resolve();
    setTimeout(resolve, 2000);
    old.close(1000);
  });
}

async function connect() {
  // One socket at a time, and the old one gone first: the gateway takes one publisher per room,
  // so a new socket opened while the old one is still open would be refused as a second publisher.
  clearTimeout(reconnectTimer);
  await dropSocket();
  if (!running) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const protocols = [VIEWER_SUBPROTOCOL];
  if (token) protocols.push(TOKEN_SUBPROTOCOL_PREFIX + token);
  setState(backoff > 250 ? 'reconnecting' : 'connecting', `to ${location.host}`);
  const ws = new WebSocket(`${scheme}://${location.host}/ws/publish/${encodeURIComponent(room)}`, protocols);
  socket = ws;
  ws.binaryType = 'arraybuffer';
  let lastError = null;
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    if (msg.type === 'hello') {
      maxFps = msg.maxFps || maxFps;
      $('gateway').textContent = msg.server?.id ?? '?';
      backoff = 250;
      setState('live', `publishing to ${room} at ${chosenFps()} fps, ${$('size').value}`);
      scheduleCapture(0);
    } else if (msg.type === 'rejected') {
      // The gateway dropped frames: count them and show why (at most one note a second arrives).
      const n = Object.values(msg.dropped ?? {}).reduce((a, b) => a + b, 0) || 1;
      stats.dropped += n;
      stats.notes.push(msg);
      notesShown++;
      $('dropped').textContent = stats.dropped;
      $('notes').textContent = `gateway: ${msg.message}`;
    } else if (msg.type === 'error') {
      lastError = stats.lastError = msg;
    }
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    socket = null;
    clearTimeout(captureTimer);
    const why = lastError?.message || e.reason || `closed (${e.code})`;
    if (!running) return;
    if (!shouldReconnect(e.code)) {
      running = false;
      $('stop').disabled = true;
      $('token-form').hidden = false;
      if (e.code === CloseCode.Unauthorized) {
        $('token-why').textContent = why;
        $('token-input').focus();
      }
      return setState('refused', `${lastError?.error ?? e.code}: ${why}`);
    }
    // Reconnect with backoff and jitter: a restarting gateway (1012) at once, others later.
    const delay = e.code === CloseCode.ServiceRestart ? 100 : backoff * (0.5 + Math.random());
    backoff = Math.min(backoff * 2, 5000);
    setState('reconnecting', `${why}; again in ${(delay / 1000).toFixed(1)} s`);
    reconnectTimer = setTimeout(() => void connect(), delay);
  };
}

// One canvas, reused; OffscreenCanvas where there is one (its convertToBlob needs no DOM).
let canvas = null;
function canvasOf(width, height) {
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  }
  return canvas;
}

function toJpeg(c) {
  if (typeof c.convertToBlob === 'function') return c.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob failed'))), 'image/jpeg', 0.8));
}

function scheduleCapture(delay) {
  clearTimeout(captureTimer);
  captureTimer = setTimeout(capture, delay);
}

async function capture() {
  const ws = socket;
  if (!running || !ws || ws.readyState !== WebSocket.OPEN || stats.state !== 'live') return;
  const started = performance.now();
  scheduleCapture(1000 / chosenFps());
  const video = $('preview');
  // Latest frame wins: while the previous frame is still encoding or still in the socket's
  // buffer, this tick's frame is skipped, never queued behind it.
  if (encoding || ws.bufferedAmount > 0 || video.readyState < 2 || !video.videoWidth) {
    stats.skipped++;
    $('skipped').textContent = stats.skipped;
    return;
  }
  encoding = true;
  try {
    const { width, height } = chosenSize();
    const c = canvasOf(width, height);
    const ctx = c.getContext('2d');
    // Cover: crop the camera's picture to the frame's aspect ratio, centred.
    const scale = Math.max(width / video.videoWidth, height / video.videoHeight);
    const sw = width / scale;
    const sh = height / scale;
    ctx.drawImage(video, (video.videoWidth - sw) / 2, (video.videoHeight - sh) / 2, sw, sh, 0, 0, width, height);
    const captureTimeUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
    const jpeg = await (await toJpeg(c)).arrayBuffer();
    if (socket !== ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(encodeEnvelope({ sequence, captureTimeUs, width, height }, jpeg));
    sequence = (sequence + 1) >>> 0;
    stats.sent++;
    stats.bytes = jpeg.byteLength;
    stats.encodeMs = performance.now() - started;
    $('sent').textContent = stats.sent;
    $('frame-size').textContent = `${width}×${height} ${(jpeg.byteLength / 1024).toFixed(1)} KB`;
  } catch (err) {
    $('notes').textContent = `could not encode a frame: ${err.message || err}`;
  } finally {
    encoding = false;
  }
}

let lastSent = 0;
setInterval(() => {
  $('rate').textContent = stats.sent - lastSent;
  lastSent = stats.sent;
  if (notesShown === 0 && stats.state === 'live') $('notes').textContent = '';
  notesShown = 0;
}, 1000);

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  $('token-input').value = '';
  $('token-why').textContent = '';
  // Kept in the fragment so a reload goes live again; never in the query.
  history.replaceState(null, '', `${location.pathname}${location.search}${token ? `#token=${encodeURIComponent(token)}` : ''}`);
  backoff = 250;
  void start();
});
$('stop').addEventListener('click', () => stop());
$('fps').addEventListener('change', () => stats.state === 'live' && setState('live', `publishing to ${room} at ${chosenFps()} fps, ${$('size').value}`));
$('size').addEventListener('change', () => stats.state === 'live' && setState('live', `publishing to ${room} at ${chosenFps()} fps, ${$('size').value}`));
window.addEventListener('hashchange', () => {
  const next = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  if (next && next !== token) {
    token = next;
    backoff = 250;
    void start();
  }
});

// A token in the fragment is the intent to go live: start at once (the browser still asks for the camera).
if (!room) setState('idle', 'pick a room to go live in');
else if (token) void start();
