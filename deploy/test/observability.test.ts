import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROMETHEUS_RULE_FILE, prometheusRuleYaml } from '../observability/gen-prometheusrule.ts';
import {
  ALERTS_DIR,
  alertRules,
  dashboard,
  dashboardQueries,
  hasPromtool,
  promtool,
  RULES_FILE,
  RULES_TEST_FILE,
  RUNBOOK_FILE,
  substituteGrafanaVariables,
  vectorSelectors,
} from './observability-files.ts';

// The observability files checked offline: promtool on the rules and their unit tests, the
// operator's PrometheusRule against the rules file it is generated from, the dashboard's shape,
// and a runbook section for every alert. deploy/test/prometheus.test.ts evaluates them for real.

const K8S_DIR = new URL('../k8s/', import.meta.url);

describe('alert rules', () => {
  it('exist (promtool is installed, as .ci/run makes sure)', () => {
    expect(hasPromtool(), 'apt-get install -y prometheus').toBe(true);
  });

  it('pass promtool check rules', async () => {
    const { code, output } = await promtool(['check', 'rules', RULES_FILE]);
    expect(code, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it("pass their promtool unit tests: each alert fires from synthetic series and stays quiet when healthy", async () => {
    const { code, output } = await promtool(['test', 'rules', RULES_TEST_FILE], undefined, ALERTS_DIR);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
    // Every alert has a case where it fires and an evaluation where it must not.
    const tests = parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const evals = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alertRules()) {
      expect(evals.some((e) => e.alertname === alert && e.exp_alerts.length > 0), `${alert} fires in a test`).toBe(true);
      expect(evals.some((e) => e.alertname === alert && e.exp_alerts.length === 0), `${alert} stays quiet in a test`).toBe(true);
    }
  });

  it('each link to their own section of docs/RUNBOOK.md and carry a severity', () => {
    const runbook = readFileSync(RUNBOOK_FILE, 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    for (const rule of alertRules()) {
      expect(rule.annotations?.runbook_url).toBe(`docs/RUNBOOK.md#${rule.alert.toLowerCase()}`);
      expect(anchors.has(rule.alert.toLowerCase()), `docs/RUNBOOK.md has a "## ${rule.alert}" section`).toBe(true);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
    }
  });

  it('are the spec of the committed PrometheusRule, generated from the rules file', () => {
    const committed = readFileSync(PROMETHEUS_RULE_FILE, 'utf8');
    expect(committed, 'run node deploy/observability/gen-prometheusrule.ts').toBe(prometheusRuleYaml(readFileSync(RULES_FILE, 'utf8')));
    const object = parse(committed) as { kind: string; spec: { groups: unknown } };
    expect(object.kind).toBe('PrometheusRule');
    expect(object.spec.groups).toEqual((parse(readFileSync(RULES_FILE, 'utf8')) as { groups: unknown }).groups);
  });
});

describe('Prometheus Operator objects (deploy/k8s/monitoring)', () => {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

  it('render with kustomize, apart from the base, into two ServiceMonitors and the PrometheusRule', () => {
    expect(kubectl, 'kubectl (with kustomize) on PATH').toBe(true);
    const out = spawnSync('kubectl', ['kustomize', new URL('monitoring', K8S_DIR).pathname], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const objects = parseAllDocuments(out.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string } });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['PrometheusRule/framecast', 'ServiceMonitor/framecast-gateway', 'ServiceMonitor/framecast-registry']);
    for (const o of objects) expect(o.metadata.namespace).toBe('framecast');
    // The base must not depend on them (the operator's CRDs may not exist).
    expect(readFileSync(new URL('kustomization.yaml', K8S_DIR), 'utf8')).not.toMatch(/^\s*-\s*monitoring/m);
  });

  it("select the base's Services by their labels and name ports that exist", () => {
    const monitors = parseAllDocuments(readFileSync(new URL('monitoring/servicemonitors.yaml', K8S_DIR), 'utf8')).map(
      (d) => d.toJS() as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } },
    );
    for (const m of monitors) {
      const name = m.spec.selector.matchLabels['app.kubernetes.io/name']!;
      const services = parseAllDocuments(readFileSync(new URL(`${name}/service.yaml`, K8S_DIR), 'utf8')).map(
        (d) => d.toJS() as { kind: string; metadata: { labels?: Record<string, string> }; spec: { ports: Array<{ name?: string }> } },
      );
      // The base's `labels` transformer adds part-of to every object; the rest must be on the Service itself.
      const { 'app.kubernetes.io/part-of': partOf, ...own } = m.spec.selector.matchLabels;
      expect(partOf).toBe('framecast');
      const matching = services.filter((s) => s.kind === 'Service' && Object.entries(own).every(([k, v]) => s.metadata.labels?.[k] === v));
      expect(matching.length, `a ${name} Service labelled ${JSON.stringify(own)}`).toBeGreaterThan(0);
      for (const e of m.spec.endpoints) {
        expect(e.path).toBe('/metrics');
        expect(matching.some((s) => s.spec.ports.some((p) => p.name === e.port)), `${name} Service has a port named ${e.port}`).toBe(true);
      }
    }
  });
});

describe('the Grafana dashboard', () => {
  const d = dashboard();

  it('is one JSON model on the provisioned datasource, with job and instance variables', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.job?.type).toBe('query');
    expect(vars.instance?.type).toBe('query');
    const datasources = JSON.stringify(d.panels).match(/"uid":"[^"]*"/g) ?? [];
    expect(new Set(datasources)).toEqual(new Set(['"uid":"${datasource}"']));
    const provisioned = parse(readFileSync(new URL('../observability/grafana/provisioning/datasources/framecast.yml', import.meta.url), 'utf8')) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    expect(provisioned.datasources[0]).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090' });
  });

  it('has the panels the issue asks for, each filtered by $job and $instance', () => {
    const queries = dashboardQueries(d);
    const uses = (re: RegExp) => queries.some((q) => re.test(q.expr));
    for (const re of [
      /histogram_quantile\(0\.5, .*framecast_gateway_frame_latency_seconds_bucket/,
      /histogram_quantile\(0\.95, .*framecast_gateway_frame_latency_seconds_bucket/,
      /histogram_quantile\(0\.99, .*framecast_gateway_frame_latency_seconds_bucket/,
      /framecast_gateway_frames_delivered_total/,
      /framecast_gateway_frames_received_total/,
      /framecast_gateway_viewers\{/,
      /framecast_gateway_frames_skipped_total/,
      /framecast_gateway_frames_invalid_total/,
      /framecast_gateway_bus_up/,
      /framecast_gateway_bus_reconnects_total/,
      /framecast_registry_viewers/,
      /framecast_agent_frames_published_total/,
      /framecast_agent_capture_to_publish_seconds_bucket/,
      /framecast_agent_frames_dropped_total/,
      /framecast_agent_source_restarts_total/,
      /framecast_registry_webhook_deliveries_total/,
      /nodejs_eventloop_lag_p99_seconds/,
      /process_resident_memory_bytes/,
    ]) {
      expect(uses(re), String(re)).toBe(true);
    }
    expect(d.panels.some((p) => p.type === 'heatmap')).toBe(true);
    for (const q of queries) {
      for (const sel of vectorSelectors(substituteGrafanaVariables(q.expr))) expect(sel, `${q.panel}`).toContain('job=~".+", instance=~".+"');
    }
  });
});
