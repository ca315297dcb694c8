import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '@framecast/testing';

/**
 * An RTSP camera on loopback, for the agent (an RTSP client) to pull from.
 *
 * ffmpeg 5.1 can only be an RTSP client or a server that receives a RECORD push, so the camera
 * is two parts: ffmpeg plays a clip in real time as RTP over UDP to this process, and a small
 * RTSP server here answers OPTIONS/DESCRIBE/SETUP/PLAY/TEARDOWN (SDP from ffmpeg) and relays each
 * RTP/RTCP packet to playing clients interleaved on their TCP connection ($, channel, length),
 * which is exactly what `-rtsp_transport tcp` asks a camera for. goAway() is the camera being
 * unplugged (connections cut, port closed), comeBack() it booting again on the same address,
 * mute() it hanging with the connection still open.
 */
export class RtspCamera {
  private readonly clients = new Set<Socket>();
  private readonly playing = new Set<Socket>();
  private server: Server | null = null;
  private muted = false;
  private sdp = '';
  packetsRelayed = 0;
  sessions = 0;

  private readonly feeder: ChildProcess;
  private readonly rtp: UdpSocket;
  private readonly rtcp: UdpSocket;
  readonly port: number;

  private constructor(feeder: ChildProcess, rtp: UdpSocket, rtcp: UdpSocket, port: number) {
    this.feeder = feeder;
    this.rtp = rtp;
    this.rtcp = rtcp;
    this.port = port;
  }

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/cam`;
  }

  static async start(clip: string, dir: string, port: number): Promise<RtspCamera> {
    const bind = async () => {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      return s;
    };
    const [rtp, rtcp] = await Promise.all([bind(), bind()]);
    const sdpPath = join(dir, `rtsp-${port}.sdp`);
    const feeder = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip, '-an', '-c:v', 'copy', '-f', 'rtp', '-sdp_file', sdpPath,
        `rtp://127.0.0.1:${rtp.address().port}?rtcpport=${rtcp.address().port}&pkt_size=1200`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const cam = new RtspCamera(feeder, rtp, rtcp, port);
    rtp.on('message', (m) => cam.relay(0, m));
    rtcp.on('message', (m) => cam.relay(1, m));
    await waitFor('RTP feeder SDP', () => existsSync(sdpPath) && readFileSync(sdpPath, 'utf8').includes('m=video'), 10_000);
    cam.sdp = readFileSync(sdpPath, 'utf8')
      .replace(/^m=video \d+/m, 'm=video 0')
      .replace(/\s*$/, '\r\na=control:streamid=0\r\n')
      .replace(/\r?\n/g, '\r\n');
    await cam.comeBack();
    return cam;
  }

  /** The camera vanishes: every connection cut, nothing listening on its port. */
  async goAway(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    this.playing.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** The camera is back on the same address. */
  async comeBack(): Promise<void> {
    this.muted = false;
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** The camera hangs: connections stay open, no packet arrives. */
  mute(): void {
    this.muted = true;
  }

  unmute(): void {
    this.muted = false;
  }

  async close(): Promise<void> {
    await this.goAway();
    this.feeder.kill('SIGKILL');
    this.rtp.close();
    this.rtcp.close();
  }

  private relay(channel: number, packet: Buffer): void {
    if (this.muted || this.playing.size === 0) return;
    const head = Buffer.from([0x24, channel, packet.length >> 8, packet.length & 0xff]);
    for (const c of this.playing) {
      c.write(head);
      c.write(packet);
    }
    this.packetsRelayed++;
  }

  private serve(sock: Socket): void {
    this.clients.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => {
      this.clients.delete(sock);
      this.playing.delete(sock);
    });
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length > 0 && buf[0] === 0x24) {
          // The client's own interleaved RTCP (receiver reports): skip it.
          if (buf.length < 4) return;
          const len = 4 + buf.readUInt16BE(2);
          if (buf.length < len) return;
          buf = buf.subarray(len);
          continue;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const bodyLen = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + bodyLen) return;
        buf = buf.subarray(end + 4 + bodyLen);
        this.answer(sock, head);
      }
    });
  }

  private answer(sock: Socket, head: string): void {
    const [method = '', uri = ''] = head.split('\r\n')[0]!.split(' ');
    const cseq = /^cseq:\s*(\d+)/im.exec(head)?.[1] ?? '0';
    const reply = (status: string, headers: Record<string, string> = {}, body = '') => {
      const lines = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (body) lines.push('Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`);
      sock.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };
    const session = { Session: '47112344;timeout=60' };
    switch (method) {
      case 'OPTIONS':
        return reply('200 OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
      case 'DESCRIBE':
        return reply('200 OK', { 'Content-Base': `${uri.replace(/\/$/, '')}/` }, this.sdp);
      case 'SETUP':
        if (!/RTP\/AVP\/TCP/i.test(head)) return reply('461 Unsupported Transport');
        return reply('200 OK', { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1', ...session });
      case 'PLAY':
        reply('200 OK', { ...session, Range: 'npt=0.000-' });
        this.sessions++;
        this.playing.add(sock);
        return;
      case 'TEARDOWN':
        reply('200 OK', session);
        sock.end();
        return;
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return reply('200 OK', session);
      default:
        return reply('405 Method Not Allowed');
    }
  }
}
