import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './bitmap-font.ts';

type Rgb = readonly [number, number, number];

// 75 % colour bars (white, yellow, cyan, green, magenta, red, blue): recognisable at a glance,
// and a wrong channel order or chroma bug shows up as wrong colours.
const BARS: readonly Rgb[] = [
  [191, 191, 191],
  [191, 191, 0],
  [0, 191, 191],
  [0, 191, 0],
  [191, 0, 191],
  [191, 0, 0],
  [0, 0, 191],
];

const CLOCK_CHARS = 'HH:MM:SS.mmm'.length;

/**
 * Paints the test pattern into one raw RGB buffer that is reused for every frame: the static
 * background (bars and a grey ramp) is rendered once and copied in with a memcpy, then the moving
 * box, the wall clock and the frame counter are drawn on top. Nothing is allocated per frame
 * except the two short strings of text.
 */
export class PatternPainter {
  /** The frame being painted; valid until the next paint() call. */
  readonly pixels: Buffer;
  private readonly background: Buffer;
  private readonly scale: number;
  private readonly boxSize: number;

  readonly width: number;
  readonly height: number;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.pixels = Buffer.alloc(width * height * 3);
    this.background = Buffer.alloc(width * height * 3);
    this.paintBackground();
    // The clock line spans about 60 % of the width, and both text lines fit in 40 % of the height.
    const byWidth = Math.floor((width * 0.6) / (CLOCK_CHARS * GLYPH_ADVANCE));
    const byHeight = Math.floor((height * 0.4) / (2 * (GLYPH_HEIGHT + 2)));
    this.scale = Math.max(1, Math.min(byWidth, byHeight));
    this.boxSize = Math.max(4, Math.floor(height / 6));
  }

  /** Paints frame number `frame` showing `wallClockMs` (ms since the epoch, local time). */
  paint(frame: number, wallClockMs: number): Buffer {
    this.background.copy(this.pixels);
    this.paintBox(frame);
    const s = this.scale;
    const lineHeight = (GLYPH_HEIGHT + 2) * s;
    const textWidth = CLOCK_CHARS * GLYPH_ADVANCE * s;
    const x = Math.floor((this.width - textWidth) / 2);
    const y = Math.floor(this.height * 0.55);
    // A black panel behind the text keeps it readable on any bar colour.
    this.fillGrey(x - 2 * s, y - 2 * s, textWidth + 3 * s, 2 * lineHeight + 2 * s, 0);
    this.drawText(formatClock(wallClockMs), x, y, 255);
    this.drawText(`#${String(frame % 1_000_000).padStart(6, '0')}`, x, y + lineHeight, 255);
    return this.pixels;
  }

  private paintBackground(): void {
    const { width, height, background } = this;
    const barsHeight = Math.ceil(height * 0.75);
    for (let x = 0; x < width; x++) {
      const [r, g, b] = BARS[Math.min(BARS.length - 1, Math.floor((x * BARS.length) / width))]!;
      const ramp = Math.round((x * 255) / Math.max(1, width - 1));
      for (let y = 0; y < height; y++) {
        const i = (y * width + x) * 3;
        if (y < barsHeight) (background[i] = r), (background[i + 1] = g), (background[i + 2] = b);
        else background[i] = background[i + 1] = background[i + 2] = ramp;
      }
    }
  }

  /** A white box bouncing around the top half, so motion (and dropped frames) are visible. */
  private paintBox(frame: number): void {
    const size = this.boxSize;
    const spanX = Math.max(1, this.width - size);
    const spanY = Math.max(1, Math.floor(this.height / 2) - size);
    const x = bounce(frame * Math.max(1, Math.floor(this.width / 90)), spanX);
    const y = bounce(frame * Math.max(1, Math.floor(this.height / 70)), spanY);
    this.fillGrey(x, y, size, size, 255);
    this.fillGrey(x + (size >> 2), y + (size >> 2), size >> 1, size >> 1, 0);
  }

  private drawText(text: string, x0: number, y0: number, grey: number): void {
    const s = this.scale;
    for (let c = 0; c < text.length; c++) {
      const rows = glyphRows(text[c]!);
      const gx = x0 + c * GLYPH_ADVANCE * s;
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        const bits = rows[row]!;
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (bits & (1 << (GLYPH_WIDTH - 1 - col))) this.fillGrey(gx + col * s, y0 + row * s, s, s, grey);
        }
      }
    }
  }

  /** Fills a rectangle, clipped to the frame, with one grey level (memset per row). */
  private fillGrey(x: number, y: number, w: number, h: number, grey: number): void {
    const x1 = Math.min(this.width, x + w);
    const y1 = Math.min(this.height, y + h);
    const xs = Math.max(0, x);
    if (x1 <= xs) return;
    for (let row = Math.max(0, y); row < y1; row++) {
      const start = (row * this.width + xs) * 3;
      this.pixels.fill(grey, start, start + (x1 - xs) * 3);
    }
  }
}

/** Position on a path that runs 0 → span → 0 as `t` grows. */
function bounce(t: number, span: number): number {
  const p = t % (2 * span);
  return p <= span ? p : 2 * span - p;
}

/** HH:MM:SS.mmm in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  const msPart = d.getMilliseconds();
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${msPart < 10 ? '00' : msPart < 100 ? '0' : ''}${msPart}`;
}
