// Several rooms at once: `/grid?rooms=a,b,c` (or every live public room, at most 16), each a
// <framecast-player> of the room's small variant (at most 320 px wide, 2 fps, made by the agent
// only while watched) or, with `?variant=` empty, of the full stream capped at `?fps=` (5 by
// default): a grid of 16 rooms on a phone costs the phone and its network a fraction of the full
// streams. A viewer token in the fragment (`#token=`) is given to every tile.
import './framecast-player.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
const MAX_TILES = 16;
let fps = Number(params.get('fps')) > 0 ? params.get('fps') : '5';
const variant = params.has('variant') ? params.get('variant') : 'small';
$('fps').value = fps;

$('fps-form').addEventListener('submit', (e) => {
  e.preventDefault();
  fps = $('fps').value || '5';
  params.set('fps', fps);
  history.replaceState(null, '', `?${params}${location.hash}`);
  // Each player sends the gateway its new cap; nothing reconnects.
  for (const p of document.querySelectorAll('framecast-player')) p.setAttribute('fps', fps);
});

function tile(room) {
  const el = document.createElement('div');
  el.className = 'tile';
  const link = document.createElement('a');
  link.href = `/rooms/${encodeURIComponent(room)}${location.hash}`;
  link.textContent = room;
  const player = document.createElement('framecast-player');
  player.setAttribute('room', room);
  player.setAttribute('fps', fps);
  if (variant) player.setAttribute('variant', variant);
  player.setAttribute('controls', '');
  if (token) player.token = token;
  el.append(link, player);
  return el;
}

async function roomsToShow() {
  const named = (params.get('rooms') || '').split(',').map((r) => r.trim()).filter(Boolean);
  if (named.length) return named.slice(0, MAX_TILES);
  const res = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`the room list answered ${res.status}`);
  const { rooms } = await res.json();
  return rooms.filter((r) => r.live).map((r) => r.name).slice(0, MAX_TILES);
}

try {
  const rooms = await roomsToShow();
  $('tiles').replaceChildren(...rooms.map(tile));
  $('note').hidden = rooms.length > 0;
  $('note').textContent = 'No live rooms. Pick rooms in the directory, or name them: /grid?rooms=a,b,c';
} catch {
  $('note').hidden = false;
  $('note').textContent = 'No room list here (the registry API is not on this origin). Name the rooms: /grid?rooms=a,b,c';
}
