/**
 * Reading a service's Prometheus metrics in tests, so that a renamed metric fails the test instead
 * of reading as 0 (`toBe(0)` on a name nobody exports any more would pass by accident).
 *
 * A metric family the service declares but has no sample of yet (a labelled counter nobody has
 * incremented: prom-client prints only its `# HELP`/`# TYPE` lines) is 0. A name the service does
 * not expose at all throws.
 */

/** Labels to match: an object (`{ camera: 'a' }`) or Prometheus text (`camera="a",reason="b"`). */
export type MetricLabels = Record<string, string> | string;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
/** Series a histogram or summary family `x` exposes besides `x` itself. */
const FAMILY_SUFFIXES = ['_bucket', '_count', '_sum', '_created'];

function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(LABEL)].map((m) => [m[1]!, m[2]!]));
}

/** Whether `name` is declared (HELP/TYPE) in the exposition: itself, or a histogram's `_count` etc. */
function declared(text: string, name: string): boolean {
  const families = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (m) families.add(m[1]!);
  }
  if (families.has(name)) return true;
  return FAMILY_SUFFIXES.some((s) => name.endsWith(s) && families.has(name.slice(0, -s.length)));
}

/**
 * The sum of the samples of `name` in Prometheus exposition `text` whose labels include `labels`
 * (all series of `name` when none are given). 0 when the metric is declared but has no such
 * sample; throws when the text does not expose `name` at all.
 */
export function metricValue(text: string, name: string, labels: MetricLabels = {}): number {
  const want = typeof labels === 'string' ? labelsOf(labels) : labels;
  let total = 0;
  let exposed = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = SAMPLE.exec(line.trim());
    if (!m || m[1] !== name) continue;
    exposed = true;
    const have = labelsOf(m[2] ?? '');
    if (Object.entries(want).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  if (!exposed && !declared(text, name)) {
    throw new Error(`metric ${name} is not exposed (renamed or removed?); exposed: ${[...new Set(text.match(/^# TYPE (\S+)/gm) ?? [])].map((l) => l.slice(7)).join(', ')}`);
  }
  return total;
}

/**
 * Scrapes `/metrics` of a service (a port on 127.0.0.1, or a base URL) and returns
 * `metricValue(text, name, labels)`: throws if the service does not expose `name`.
 */
export async function scrapeMetric(target: number | string, name: string, labels: MetricLabels = {}): Promise<number> {
  const base = typeof target === 'number' ? `http://127.0.0.1:${target}` : target.replace(/\/$/, '');
  const res = await fetch(`${base}/metrics`);
  if (!res.ok) throw new Error(`GET ${base}/metrics answered ${res.status}`);
  return metricValue(await res.text(), name, labels);
}
