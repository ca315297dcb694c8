/**
 * Splits a byte stream of concatenated JPEGs (ffmpeg's `-f mjpeg` output) into frames.
 *
 * It parses the JPEG marker structure instead of searching for FFD8/FFD9, because those byte
 * pairs occur legitimately inside marker segments (an EXIF thumbnail in APP1 is a whole JPEG):
 *   - before SOI everything is garbage and is skipped;
 *   - between SOI and SOS it walks marker segments by their 16-bit lengths, never looking inside;
 *   - after SOS it scans entropy-coded data, where 0xFF is always followed by 0x00 (stuffing),
 *     RST0–7 or a real marker; EOI (FFD9) ends the frame, other markers (DHT/SOS of a
 *     progressive JPEG) are segments again.
 * The parser is a byte-level state machine whose state survives chunk boundaries, so every
 * byte is examined once (no re-scanning a growing buffer), and `indexOf(0xff)` skips the bulk of
 * entropy data in native code.
 */

import { ENVELOPE_HEADER_V1_BYTES } from '@framecast/protocol';

export interface JpegSplitterOptions {
  /** A frame growing past this is dropped and counted instead of held without bound. */
  maxFrameBytes: number;
  /**
   * Receives each complete frame. It may be a view into a chunk given to push(). A frame that
   * spanned chunks had to be copied into one buffer anyway: that buffer starts with
   * ENVELOPE_HEADER_V1_BYTES of free space and is passed as `envelope` (`jpeg` is its tail), so
   * the publisher writes the header in place instead of allocating and copying again.
   */
  onFrame: (jpeg: Buffer, envelope?: Buffer) => void;
  /** Told about each frame given up on, as it happens (the counters in stats() say the same). */
  onDrop?: (reason: JpegDropReason) => void;
}

export type JpegDropReason = 'truncated' | 'corrupt' | 'oversized';

export interface JpegSplitterStats {
  frames: number;
  /** Frames abandoned because a new SOI began before their EOI, or reset() cut them off. */
  truncated: number;
  /** Frames abandoned because their marker structure was invalid. */
  corrupt: number;
  oversized: number;
  /** Bytes outside any frame (before an SOI, or left of a dropped frame). */
  garbageBytes: number;
}

// Parser states. Plain numbers rather than an enum: this runs per byte in the hot loop.
const SEEK_SOI = 0; // outside a frame, looking for 0xFF
const SEEK_SOI_FF = 1; // outside a frame, just saw 0xFF
const MARKER = 2; // in the header, a marker must start here
const MARKER_FF = 3; // in the header, saw 0xFF, next is the marker code
const LEN_HI = 4;
const LEN_LO = 5;
const SKIP = 6; // skipping a segment's payload
const ENTROPY = 7; // in entropy-coded data, looking for 0xFF
const ENTROPY_FF = 8; // in entropy-coded data, saw 0xFF

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
const FF_BYTE = Buffer.from([0xff]);

/**
 * Segment lengths whose layout the standard fixes are checked, because a truncated frame's
 * length field read from the next frame's bytes (often its SOI: 0xFFD8) would otherwise swallow
 * whole frames. SOS carries 6 + 2·Ns bytes (Ns 1–4), SOF 8 + 3·Nf.
 */
function plausibleLength(marker: number, len: number): boolean {
  if (marker === SOS) return len >= 8 && len <= 14 && len % 2 === 0;
  if (isStartOfFrame(marker)) return len >= 11 && (len - 8) % 3 === 0;
  return len >= 2;
}

/** SOF0–SOF15, leaving out DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** A stretch of bytes that must be parsed again from a clean state (after corruption). */
interface Replay {
  buf: Buffer;
  resumeAt: number;
}

export class JpegStreamSplitter {
  private state = SEEK_SOI;
  /** Parts of the current frame from earlier chunks (views, not copies). */
  private pieces: Buffer[] = [];
  private piecesBytes = 0;
  /** Where the current frame starts in the buffer being scanned. */
  private frameStart = 0;
  private segMarker = 0;
  private segRemaining = 0;
  private sawScan = false;
  private sawSof = false;
  private readonly counters: JpegSplitterStats = { frames: 0, truncated: 0, corrupt: 0, oversized: 0, garbageBytes: 0 };

  private readonly opts: JpegSplitterOptions;

  constructor(opts: JpegSplitterOptions) {
    this.opts = opts;
  }

  get stats(): Readonly<JpegSplitterStats> {
    return this.counters;
  }

  /**
   * Feeds the next chunk of the stream. The splitter keeps views of `chunk` until the frame it
   * belongs to is complete, so the caller must not reuse or mutate it (stream chunks never are).
   */
  push(chunk: Buffer): void {
    // Corruption replays a frame's bytes from a clean state; a work stack keeps that iterative
    // so a hostile stream cannot recurse deeply.
    const work: Replay[] = [{ buf: chunk, resumeAt: 0 }];
    while (work.length > 0) {
      const { buf, resumeAt } = work.pop()!;
      const replay = this.scan(buf, resumeAt);
      if (replay) work.push({ buf, resumeAt: replay.resumeAt }, { buf: replay.buf, resumeAt: 0 });
    }
  }

  /** Discards a partial frame (the source restarted, its next bytes start a new stream). */
  reset(): void {
    if (this.inFrame()) this.count('truncated');
    this.dropFrame();
  }

  private inFrame(): boolean {
    return this.state !== SEEK_SOI && this.state !== SEEK_SOI_FF;
  }

  /** Scans `buf` from `pos`; returns early with bytes to re-parse when a frame proves corrupt. */
  private scan(buf: Buffer, pos: number): Replay | null {
    const n = buf.length;
    if (this.inFrame()) this.frameStart = pos;
    while (pos < n) {
      switch (this.state) {
        case SEEK_SOI: {
          const i = buf.indexOf(0xff, pos);
          const end = i < 0 ? n : i + 1;
          this.counters.garbageBytes += end - pos;
          pos = end;
          if (i >= 0) this.state = SEEK_SOI_FF;
          break;
        }
        case SEEK_SOI_FF: {
          const b = buf[pos++]!;
          if (b === SOI) {
            this.counters.garbageBytes--; // the 0xFF was counted as garbage; it belongs to the frame
            this.beginFrame(buf, pos - 1);
          } else if (b !== 0xff) {
            this.counters.garbageBytes++;
            this.state = SEEK_SOI;
          } else {
            this.counters.garbageBytes++;
          }
          break;
        }
        case MARKER:
          if (buf[pos++] !== 0xff) return this.corrupt(buf, pos);
          this.state = MARKER_FF;
          break;
        case MARKER_FF:
        case ENTROPY_FF: {
          const m = buf[pos++]!;
          if (m === 0xff) break; // fill byte before a marker
          if (this.state === ENTROPY_FF && (m === 0x00 || (m >= 0xd0 && m <= 0xd7))) {
            this.state = ENTROPY; // byte stuffing or a restart marker: still entropy data
          } else if (m === EOI) {
            if (!this.sawScan) return this.corrupt(buf, pos);
            this.emit(buf, pos);
          } else if (m === SOI) {
            // A new frame began before this one ended: the writer was cut off mid-frame.
            this.count('truncated');
            this.dropFrame();
            this.beginFrame(buf, pos - 1);
          } else if (m === 0x00 || (m >= 0xd0 && m <= 0xd7)) {
            return this.corrupt(buf, pos); // stuffing/RST outside entropy data
          } else if (m === TEM) {
            this.state = MARKER;
          } else if (isStartOfFrame(m) && this.sawSof) {
            // One frame header per image: a second one means a truncated frame's segment
            // length ran into the next frame's header.
            return this.corrupt(buf, pos);
          } else {
            if (isStartOfFrame(m)) this.sawSof = true;
            this.segMarker = m;
            this.state = LEN_HI;
          }
          break;
        }
        case LEN_HI:
          this.segRemaining = buf[pos++]! << 8;
          this.state = LEN_LO;
          break;
        case LEN_LO: {
          const len = this.segRemaining | buf[pos++]!;
          if (!plausibleLength(this.segMarker, len)) return this.corrupt(buf, pos);
          this.segRemaining = len - 2;
          this.state = SKIP;
          if (this.segRemaining === 0) this.endSegment();
          break;
        }
        case SKIP: {
          const take = Math.min(this.segRemaining, n - pos);
          pos += take;
          this.segRemaining -= take;
          if (this.segRemaining === 0) this.endSegment();
          break;
        }
        case ENTROPY: {
          const i = buf.indexOf(0xff, pos);
          if (i < 0) pos = n;
          else {
            pos = i + 1;
            this.state = ENTROPY_FF;
          }
          break;
        }
      }
    }
    if (this.inFrame()) {
      // Keep the rest of this buffer as part of the open frame, or give up on an oversized one.
      const size = this.piecesBytes + (n - this.frameStart);
      if (size > this.opts.maxFrameBytes) {
        this.count('oversized');
        this.counters.garbageBytes += size;
        this.dropFrame();
      } else if (n > this.frameStart) {
        this.pieces.push(buf.subarray(this.frameStart, n));
        this.piecesBytes += n - this.frameStart;
      }
    }
    return null;
  }

  /** `at` is the index of the SOI's 0xD8 in `buf`; its 0xFF is at at-1 or ended the last chunk. */
  private beginFrame(buf: Buffer, at: number): void {
    if (at === 0) {
      this.pieces = [FF_BYTE];
      this.piecesBytes = 1;
      this.frameStart = 0;
    } else {
      this.frameStart = at - 1;
    }
    this.sawScan = false;
    this.sawSof = false;
    this.state = MARKER;
  }

  private endSegment(): void {
    if (this.segMarker === SOS) {
      this.sawScan = true;
      this.state = ENTROPY;
    } else {
      this.state = MARKER;
    }
  }

  /** The frame ends just before `end` in `buf`. */
  private emit(buf: Buffer, end: number): void {
    const size = this.piecesBytes + (end - this.frameStart);
    if (size > this.opts.maxFrameBytes) {
      this.count('oversized');
      this.counters.garbageBytes += size;
      this.dropFrame();
      return;
    }
    let frame: Buffer;
    let envelope: Buffer | undefined;
    if (this.pieces.length === 0) frame = buf.subarray(this.frameStart, end);
    else {
      this.pieces.push(buf.subarray(this.frameStart, end));
      envelope = Buffer.allocUnsafe(ENVELOPE_HEADER_V1_BYTES + size);
      let offset = ENVELOPE_HEADER_V1_BYTES;
      for (const piece of this.pieces) offset += piece.copy(envelope, offset);
      frame = envelope.subarray(ENVELOPE_HEADER_V1_BYTES);
    }
    this.dropFrame();
    this.counters.frames++;
    this.opts.onFrame(frame, envelope);
  }

  /**
   * The frame's structure is invalid at `pos`. Most often a truncated frame's segment length ran
   * into the next frame, so its bytes after the SOI are parsed again from a clean state: a good
   * frame hidden in them is still found. Each replay is shorter than the frame it came from and
   * bounded by maxFrameBytes, and corruption is rare (ffmpeg restarts reset the splitter).
   */
  private corrupt(buf: Buffer, pos: number): Replay {
    this.count('corrupt');
    this.pieces.push(buf.subarray(this.frameStart, pos));
    const bytes = Buffer.concat(this.pieces, this.piecesBytes + (pos - this.frameStart));
    this.dropFrame();
    this.counters.garbageBytes += 2; // the bogus SOI; the replay counts the rest
    return { buf: bytes.subarray(2), resumeAt: pos };
  }

  private count(reason: JpegDropReason): void {
    this.counters[reason]++;
    this.opts.onDrop?.(reason);
  }

  private dropFrame(): void {
    this.pieces = [];
    this.piecesBytes = 0;
    this.sawScan = false;
    this.sawSof = false;
    this.state = SEEK_SOI;
  }
}
