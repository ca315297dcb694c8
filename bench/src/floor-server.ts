/**
 * The bare fan-out floor for this architecture on Node: one ioredis subscriber and a plain `ws`
 * server that subscribes to video_<room> on a room's first viewer, sends each Redis message
 * to the room's sockets and unsubscribes when the room's last viewer leaves. Nothing more: no validation, no backpressure, no metrics, no auth.
 * framecast's gateway is measured against this in the same run.
 *
 * Env: REDIS_URL, PORT.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

// `--version`, as the gateway has: every module loaded (the bench fills Node's compile cache so), exit.
if (process.argv.includes('--version')) process.exit(0);

const sub = new Redis(process.env.REDIS_URL!);
const rooms = new Map<string, Set<WebSocket>>();

sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
  const sockets = rooms.get(channel.toString().slice('video_'.length));
  if (!sockets) return;
  for (const ws of sockets) ws.send(message);
});

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const room = (req.url ?? '').split('/').pop()!.split('?')[0]!;
  let sockets = rooms.get(room);
  if (!sockets) {
    rooms.set(room, (sockets = new Set()));
    void sub.subscribe(`video_${room}`);
  }
  sockets.add(ws);
  // A room's last viewer gone: unsubscribe at once (no linger), or viewers hopping between rooms
  // would leave the floor subscribed to every room they ever visited.
  ws.on('close', () => {
    sockets.delete(ws);
    if (sockets.size === 0 && rooms.get(room) === sockets) {
      rooms.delete(room);
      void sub.unsubscribe(`video_${room}`);
    }
  });
  ws.on('error', () => {});
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('floor listening\n'));
process.on('SIGTERM', () => process.exit(0));
