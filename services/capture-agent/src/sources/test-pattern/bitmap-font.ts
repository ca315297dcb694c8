/**
 * A 5×7 bitmap font for the characters the test pattern prints (a clock and a frame counter).
 * Built in so the agent needs no system fonts and no text renderer: glyphs are drawn as scaled
 * rectangles straight into the raw RGB buffer.
 */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal distance between glyph origins, in font pixels (one column of spacing). */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;

const GLYPH_ROWS: Record<string, string[]> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  ':': ['.....', '..#..', '..#..', '.....', '..#..', '..#..', '.....'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  '#': ['.#.#.', '.#.#.', '#####', '.#.#.', '#####', '.#.#.', '.#.#.'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};

/** Each glyph as 7 row bitmasks, bit 4 = leftmost column. */
const GLYPHS = new Map<string, number[]>(
  Object.entries(GLYPH_ROWS).map(([ch, rows]) => [ch, rows.map((r) => [...r].reduce((bits, c) => (bits << 1) | (c === '#' ? 1 : 0), 0))]),
);

/** The row bitmasks of `ch`; unknown characters render as blanks. */
export function glyphRows(ch: string): readonly number[] {
  return GLYPHS.get(ch) ?? GLYPHS.get(' ')!;
}
