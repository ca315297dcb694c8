import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The observability files under test: one copy each, used by compose, the operator objects and docs. */
export const OBS_DIR = fileURLToPath(new URL('../observability/', import.meta.url));
export const ALERTS_DIR = `${OBS_DIR}alerts`;
export const RULES_FILE = `${ALERTS_DIR}/framecast.rules.yml`;
export const RULES_TEST_FILE = `${ALERTS_DIR}/framecast.rules.test.yml`;
export const DASHBOARD_FILE = `${OBS_DIR}grafana/dashboards/framecast.json`;
export const COMPOSE_PROMETHEUS_CONFIG = `${OBS_DIR}prometheus/prometheus.yml`;
export const RUNBOOK_FILE = fileURLToPath(new URL('../../docs/RUNBOOK.md', import.meta.url));

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const file = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
  return file.groups.flatMap((g) => g.rules);
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

interface Panel {
  title?: string;
  type: string;
  targets?: Array<{ expr?: string; refId: string }>;
  panels?: Panel[];
}

export interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every Prometheus expression of every panel (rows' nested panels included). */
export function dashboardQueries(d: Dashboard = dashboard()): DashboardQuery[] {
  const walk = (panels: Panel[]): DashboardQuery[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).filter((t) => t.expr).map((t) => ({ panel: p.title ?? p.type, refId: t.refId, expr: t.expr! })),
      ...walk(p.panels ?? []),
    ]);
  return walk(d.panels);
}

/**
 * Grafana's variables replaced the way Grafana would for "All" selections over a Prometheus that
 * scrapes every second: $job and $instance match everything, $__rate_interval is a window holding
 * several scrapes. An unknown variable is an error, so a typo in the dashboard fails the test.
 */
export function substituteGrafanaVariables(expr: string, rateInterval = '10s'): string {
  const values: Record<string, string> = { job: '.+', instance: '.+', __rate_interval: rateInterval, __interval: '2s', __range: '5m' };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values[name];
    if (value === undefined) throw new Error(`unknown Grafana variable $${name} in ${expr}`);
    return value;
  });
}

/** PromQL words that look like metric names but are not: keywords and clause names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The vector selectors an expression reads (`name` or `name{matchers}`), so a test can check that
 * each one exists in a real scrape: an alert's full expression returns nothing while all is well,
 * but every series it reads must be there, or the alert can never fire.
 */
export function vectorSelectors(expr: string): string[] {
  const stripped = expr
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const out = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g)) {
    const [, name, matchers, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    out.add(`${name}${matchers ?? ''}`);
  }
  return [...out];
}

export function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs promtool with `args` (and `input` on stdin); resolves with its exit code and output. */
export function promtool(args: string[], input?: string, cwd?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c: Buffer) => (output += c.toString()));
    p.stderr.on('data', (c: Buffer) => (output += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, output }));
    p.stdin.end(input ?? '');
  });
}
