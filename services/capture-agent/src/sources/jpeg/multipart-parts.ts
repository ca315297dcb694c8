import type { JpegStreamSplitter } from './jpeg-splitter.ts';

/**
 * Feeds a multipart/x-mixed-replace body to the JPEG splitter and tells it where each part ends.
 *
 * The splitter finds JPEGs by their own structure, so part headers and boundary lines are simply
 * bytes outside any frame. What the boundaries add is the rule that a part's JPEG must be
 * complete when its part ends: at every delimiter the splitter is reset, so a truncated frame is
 * dropped and counted there instead of being glued to the next part's bytes. Cameras that send a
 * boundary different from the one in their header (it happens) still work: no delimiter is
 * found and the splitter alone delimits frames, catching a truncated one at the next SOI.
 */
export class MultipartPartReader {
  private readonly delimiter: Buffer | null;
  /** The last delimiter.length-1 bytes seen, to find a delimiter split across chunks. */
  private tail: Buffer = Buffer.alloc(0);
  parts = 0;

  private readonly splitter: JpegStreamSplitter;

  constructor(boundary: string | null, splitter: JpegStreamSplitter) {
    this.splitter = splitter;
    this.delimiter = boundary ? Buffer.from(`--${boundary}`, 'latin1') : null;
  }

  push(chunk: Buffer): void {
    const d = this.delimiter;
    if (!d) return this.splitter.push(chunk);
    let start = 0;
    if (this.tail.length > 0) {
      const head = Buffer.concat([this.tail, chunk.subarray(0, d.length - 1)]);
      const i = head.indexOf(d);
      if (i >= 0) start = this.partEnds(chunk, 0, i + d.length - this.tail.length);
    }
    for (let i = chunk.indexOf(d, start); i >= 0; i = chunk.indexOf(d, start)) start = this.partEnds(chunk, start, i + d.length);
    if (start < chunk.length) this.splitter.push(chunk.subarray(start));
    const keep = d.length - 1;
    this.tail = chunk.length >= keep ? Buffer.from(chunk.subarray(chunk.length - keep)) : Buffer.concat([this.tail, chunk]).subarray(-keep);
  }

  /** Pushes chunk[from, end) (ending with a delimiter) and closes the part; returns end. */
  private partEnds(chunk: Buffer, from: number, end: number): number {
    if (end > from) this.splitter.push(chunk.subarray(from, end));
    this.splitter.reset();
    this.parts++;
    return end;
  }
}

/** The boundary parameter of a multipart content type, without quotes; null when absent. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2])! : null;
  // Some servers put the dashes in the parameter too; searching for "--" + the rest still matches.
  return b ? b.replace(/^--/, '') : null;
}
