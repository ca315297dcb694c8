// <framecast-player room="lobby"> — one room's live video, for any page:
//
//   <script type="module" src="https://gateway.example.com/framecast-player.js"></script>
//   <framecast-player room="lobby" fps="5" controls></framecast-player>
//
// Attributes: room (required); fps (a frame-rate cap, 0.1–60: the gateway thins for this player
// only); variant ("small": a rendition at most 320 px wide and 2 fps, made by the camera's agent
// only while someone watches it; for grid tiles and thumbnails); token (a viewer token for a private room; the `token` property keeps it out of the DOM);
// gateway (the gateway's base URL, default: where this script came from); controls (the stats
// line and a fullscreen button); fit ("contain", the default, or "cover" for grid tiles).
//
// Decoding, the close table and the reconnect rule come from @framecast/protocol's browser module,
// served beside this file, the same rules the services use. Latest frame wins: while one JPEG
// decodes only the newest arrival waits, so a slow device never builds a backlog.
//
// Events: `statechange` (detail: { state, detail }); states are connecting, live, stalled (the
// connection is up, frames stopped for a moment), offline (the room has no frames), reconnecting
// (with backoff and jitter), error (the gateway refused for good: bad room, private room).
import { CloseCode, TOKEN_SUBPROTOCOL_PREFIX, VIEWER_SUBPROTOCOL, decodeEnvelope, shouldReconnect } from './protocol.js';

const STYLE = `
:host { display: block; position: relative; background: #000; color: #ddd; font-family: system-ui, sans-serif; line-height: 0; contain: content; }
:host([hidden]) { display: none; }
canvas { display: block; width: 100%; height: 100%; object-fit: var(--framecast-fit, contain); background: #000; transition: opacity .4s, filter .4s; }
canvas.dim { opacity: .45; filter: grayscale(.6); }
.overlay { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; pointer-events: none; line-height: 1.3; text-align: center; }
.overlay span { background: rgba(0,0,0,.8); color: #fff; padding: .3rem .8rem; border-radius: 4px; font-size: .95rem; max-width: 90%; }
.overlay[hidden] { display: none; }
.bar { position: absolute; left: 0; right: 0; bottom: 0; display: flex; gap: .8rem; align-items: center; padding: .25rem .5rem; line-height: 1.4;
  font: 12px ui-monospace, monospace; background: linear-gradient(transparent, rgba(0,0,0,.75)); flex-wrap: wrap; }
.bar[hidden] { display: none; }
.bar b { color: #8fd18f; font-weight: normal; }
.bar .state[data-state="live"] { color: #8fd18f; }
.bar .state[data-state="offline"], .bar .state[data-state="stalled"] { color: #e0b050; }
.bar .state[data-state="reconnecting"], .bar .state[data-state="error"] { color: #e88; }
.bar button { margin-left: auto; background: rgba(0,0,0,.5); color: #ddd; border: 1px solid #555; border-radius: 3px; font: inherit; padding: .15rem .35rem; line-height: 0; cursor: pointer; }
`;

const MAX_BACKOFF_MS = 10_000;

export class FramecastPlayer extends HTMLElement {
  static get observedAttributes() {
    return ['room', 'fps', 'variant', 'token', 'gateway', 'controls'];
  }

  #canvas;
  #ctx;
  #overlay;
  #bar;
  #ws = null;
  #token = '';
  #backoff = 500;
  #retryTimer = 0;
  #tickTimer = 0;
  #pending = null;
  #decoding = false;
  #lastFrameAt = 0;
  #openedAt = 0;
  #frameGapMs = 0;
  #lastError = null;
  #paintedAtTick = 0;
  /** What the player has done, for its page (and its tests). */
  stats = { painted: 0, fps: 0, latencyMs: null, width: 0, height: 0, sequence: null, reconnects: 0 };
  state = 'connecting';

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><canvas width="640" height="360" part="canvas"></canvas>
<div class="overlay" role="status" aria-live="polite"><span>connecting</span></div>
<div class="bar" hidden part="controls"><span class="state" data-state="connecting">connecting</span><span>fps <b class="fps">0</b></span>
<span>latency <b class="latency">–</b> ms</span><span class="size"></span><button type="button" title="fullscreen" aria-label="fullscreen"><svg width="12" height="12" viewBox="0 0 12 12" fill="none" stroke="currentColor" stroke-width="1.5"><path d="M1 4V1h3M8 1h3v3M11 8v3H8M4 11H1V8"/></svg></button></div>`;
    this.#canvas = root.querySelector('canvas');
    this.#ctx = this.#canvas.getContext('2d');
    this.#overlay = root.querySelector('.overlay');
    this.#bar = root.querySelector('.bar');
    root.querySelector('button').addEventListener('click', () => this.toggleFullscreen());
  }

  /** A viewer token for a private room; set as a property it never appears in the DOM. */
  get token() {
    return this.#token || this.getAttribute('token') || '';
  }
  set token(value) {
    this.#token = value || '';
    if (this.isConnected) this.#reconnectNow();
  }

  get room() {
    return this.getAttribute('room') || '';
  }
  set room(value) {
    this.setAttribute('room', value);
  }

  connectedCallback() {
    this.#bar.hidden = !this.hasAttribute('controls');
    this.#tickTimer = setInterval(() => this.#tick(), 1000);
    this.#connect();
  }

  disconnectedCallback() {
    clearInterval(this.#tickTimer);
    clearTimeout(this.#retryTimer);
    this.#closeSocket();
  }

  attributeChangedCallback(name, oldValue, value) {
    if (!this.isConnected || oldValue === value) return;
    if (name === 'controls') this.#bar.hidden = value === null;
    else if (name === 'fps' && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: 'options', fps: this.#fps() }));
    else if (name !== 'fps') this.#reconnectNow();
  }

  toggleFullscreen() {
    if (document.fullscreenElement === this) void document.exitFullscreen();
    else void this.requestFullscreen?.();
  }

  #fps() {
    const fps = Number(this.getAttribute('fps'));
    return this.hasAttribute('fps') && fps > 0 ? fps : null;
  }

  #url() {
    const base = new URL(this.getAttribute('gateway') || new URL('.', import.meta.url).href, location.href);
    const url = new URL(`ws/video/${encodeURIComponent(this.room)}`, base.href.endsWith('/') ? base : `${base.href}/`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const fps = this.#fps();
    if (fps !== null) url.searchParams.set('fps', String(fps));
    const variant = this.getAttribute('variant');
    if (variant) url.searchParams.set('variant', variant);
    return url.href;
  }

  #setState(state, detail = '') {
    const label = detail || state;
    const stateEl = this.#bar.querySelector('.state');
    if (this.state === state && stateEl.textContent === label) return;
    this.state = state;
    stateEl.dataset.state = state;
    stateEl.textContent = label;
    const show = state !== 'live' && !(state === 'connecting' && this.stats.painted > 0);
    this.#overlay.hidden = !show;
    this.#overlay.firstElementChild.textContent = label;
    this.#canvas.classList.toggle('dim', show && this.stats.painted > 0);
    this.dispatchEvent(new CustomEvent('statechange', { detail: { state, detail } }));
  }

  #closeSocket() {
    if (!this.#ws) return;
    this.#ws.onclose = null;
    this.#ws.onmessage = null;
    this.#ws.close();
    this.#ws = null;
  }

  #reconnectNow() {
    clearTimeout(this.#retryTimer);
    this.#closeSocket();
    this.#backoff = 500;
    this.#connect();
  }

  #connect() {
    if (!this.room) return this.#setState('error', 'no room');
    const protocols = [VIEWER_SUBPROTOCOL];
    if (this.token) protocols.push(TOKEN_SUBPROTOCOL_PREFIX + this.token);
    let ws;
    try {
      ws = new WebSocket(this.#url(), protocols);
    } catch (err) {
      return this.#setState('error', String(err.message || err));
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    this.#lastError = null;
    if (this.state !== 'reconnecting') this.#setState('connecting');
    ws.onopen = () => {
      this.#openedAt = Date.now();
      this.#lastFrameAt = 0;
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return this.#onFrame(e.data);
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg.type === 'error') this.#lastError = msg;
    };
    ws.onclose = (e) => {
      this.#ws = null;
      if (!shouldReconnect(e.code)) {
        const why = this.#lastError?.message || e.reason || `closed (${e.code})`;
        return this.#setState('error', e.code === CloseCode.Unauthorized ? 'private room: a viewer token is required' : why);
      }
      // Full jitter: after a gateway restart every player of every page does not come back at once.
      // A restarting gateway (1012) is left at once for another replica.
      const delay = e.code === CloseCode.ServiceRestart ? Math.random() * 500 : this.#backoff / 2 + Math.random() * (this.#backoff / 2);
      this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
      this.stats.reconnects++;
      this.#setState('reconnecting', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
    };
  }

  #onFrame(buf) {
    let frame;
    try {
      frame = decodeEnvelope(buf);
    } catch {
      return; // malformed: the next frame replaces it
    }
    const now = Date.now();
    if (this.#lastFrameAt) this.#frameGapMs = this.#frameGapMs ? 0.9 * this.#frameGapMs + 0.1 * (now - this.#lastFrameAt) : now - this.#lastFrameAt;
    this.#lastFrameAt = now;
    this.#backoff = 500;
    this.#pending = frame;
    void this.#paint();
  }

  async #paint() {
    if (this.#decoding || !this.#pending) return;
    const { header, payload } = this.#pending;
    this.#pending = null;
    this.#decoding = true;
    try {
      const bitmap = await createImageBitmap(new Blob([payload], { type: 'image/jpeg' }));
      if (this.#canvas.width !== bitmap.width || this.#canvas.height !== bitmap.height) {
        this.#canvas.width = bitmap.width;
        this.#canvas.height = bitmap.height;
      }
      this.#ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
      const s = this.stats;
      s.painted++;
      s.latencyMs = Date.now() - header.captureTimeUs / 1000;
      s.width = header.width;
      s.height = header.height;
      s.sequence = header.sequence;
      this.#setState('live');
    } catch {
      // a corrupt JPEG: skipped
    } finally {
      this.#decoding = false;
      if (this.#pending) void this.#paint();
    }
  }

  /** Once a second: the stats line, and whether frames stopped (stalled, then offline). */
  #tick() {
    const s = this.stats;
    s.fps = s.painted - this.#paintedAtTick;
    this.#paintedAtTick = s.painted;
    this.#bar.querySelector('.fps').textContent = String(s.fps);
    this.#bar.querySelector('.latency').textContent = s.latencyMs === null ? '–' : String(Math.round(s.latencyMs));
    this.#bar.querySelector('.size').textContent = s.width ? `${s.width}×${s.height}` : '';
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    const quietMs = Date.now() - (this.#lastFrameAt || this.#openedAt);
    // A capped or slow camera sends seldom: judge silence against its own pace.
    const expected = Math.max(this.#frameGapMs, 1000 / (this.#fps() ?? 30));
    if (this.#lastFrameAt === 0) {
      // A variant starts only once its agent notices someone watches (a few seconds).
      const firstFrameMs = this.getAttribute('variant') ? 10_000 : 3000;
      if (quietMs > firstFrameMs) this.#setState('offline', 'offline: no frames from this room');
    } else if (quietMs > Math.max(10_000, 10 * expected)) this.#setState('offline', 'offline: the camera stopped');
    else if (quietMs > Math.max(1500, 3 * expected)) this.#setState('stalled', 'stalled: waiting for frames');
  }
}

if (!customElements.get('framecast-player')) customElements.define('framecast-player', FramecastPlayer);
