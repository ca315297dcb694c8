// The room directory: the registry's public rooms (GET /api/rooms), live or offline, with a
// thumbnail of each live room (its snapshot URL, revalidated with the ETag, so an unchanged frame
// costs a 304), viewers, and the camera's frame rate and size. Refreshed every few seconds.
// Ticking rooms builds a grid link.
const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
const chosen = new Set();
/** Object URLs of the thumbnails by room, revoked when replaced. */
const thumbs = new Map();

$('pick').addEventListener('submit', (e) => {
  e.preventDefault();
  location.href = `/rooms/${encodeURIComponent($('room-input').value.trim())}${location.hash}`;
});

function updateGridLink() {
  const link = $('grid-link');
  link.href = chosen.size ? `/grid?rooms=${[...chosen].map(encodeURIComponent).join(',')}${location.hash}` : `/grid${location.hash}`;
  link.textContent = chosen.size ? `Grid (${chosen.size})` : 'Grid';
}

function meta(room) {
  const cams = room.cameras.map((c) => `${c.width}×${c.height} · ${Math.round(c.fps)} fps`).join(', ');
  const viewers = `${room.viewers.total} watching`;
  return room.live ? `${cams} · ${viewers}` : `offline · ${viewers}`;
}

function card(room) {
  const el = document.createElement('article');
  el.className = 'card';
  el.dataset.room = room.name;
  const href = `/rooms/${encodeURIComponent(room.name)}${location.hash}`;
  el.innerHTML = `<a class="thumb" aria-hidden="true" tabindex="-1"><img alt=""><span class="off" hidden>offline</span><span class="badge"></span></a>
<div class="body"><a class="title"></a><span class="meta"></span><label><input type="checkbox"> in grid</label></div>`;
  el.querySelector('.thumb').href = href;
  el.querySelector('.title').href = href;
  const box = el.querySelector('input');
  box.checked = chosen.has(room.name);
  box.addEventListener('change', () => {
    if (box.checked) chosen.add(room.name);
    else chosen.delete(room.name);
    updateGridLink();
  });
  return el;
}

function setLive(el, live) {
  const badge = el.querySelector('.badge');
  badge.textContent = live ? 'LIVE' : 'offline';
  badge.className = `badge${live ? ' live' : ''}`;
  el.dataset.live = String(live);
}

function render(el, room) {
  el.querySelector('.title').textContent = room.title || room.name;
  el.querySelector('.meta').textContent = meta(room);
  setLive(el, room.live);
}

/** The room's latest frame as the card's picture; a 304 keeps what is shown. */
async function refreshThumb(el, room) {
  const img = el.querySelector('img');
  const off = el.querySelector('.off');
  try {
    // no-cache: the browser revalidates with If-None-Match and the gateway answers 304 between frames.
    const res = await fetch(`/video/${encodeURIComponent(room.name)}.jpg`, { cache: 'no-cache' });
    if (!res.ok) throw new Error(String(res.status));
    // A recent frame is live whoever sent it: the registry's flag comes from camera agents'
    // heartbeats, and a room fed from a browser (/publish) has none.
    if (!room.live) setLive(el, true);
    const etag = res.headers.get('etag');
    if (etag && img.dataset.etag === etag) return;
    const url = URL.createObjectURL(await res.blob());
    img.src = url;
    img.dataset.etag = etag || '';
    const old = thumbs.get(room.name);
    if (old) URL.revokeObjectURL(old);
    thumbs.set(room.name, url);
    off.hidden = true;
  } catch {
    off.hidden = !!img.getAttribute('src');
  }
}

async function refresh() {
  try {
    const res = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`the room list answered ${res.status}`);
    const { rooms } = await res.json();
    const cards = $('cards');
    const existing = new Map([...cards.children].map((c) => [c.dataset.room, c]));
    const ordered = [...rooms].sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name));
    const next = ordered.map((room) => {
      const el = existing.get(room.name) ?? card(room);
      render(el, room);
      void refreshThumb(el, room);
      return el;
    });
    cards.replaceChildren(...next);
    $('note').hidden = rooms.length > 0;
    $('note').textContent = 'No public rooms yet. A room appears here once a camera publishes to it, or an admin creates it; a private room is watched by name with a token.';
  } catch {
    // No registry on this origin: the page still watches a room by name.
    $('note').hidden = false;
    $('note').textContent = 'No room list here (the registry API is not on this origin). Watch a room by name above.';
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

updateGridLink();
void refresh();
