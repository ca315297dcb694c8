/**
 * Writes deploy/k8s/monitoring/prometheusrule.yaml, the Prometheus Operator's copy of the alert
 * rules, from deploy/observability/alerts/framecast.rules.yml: the rules file is the one copy, and
 * this object is derived from it, never edited by hand. deploy/test/observability.test.ts fails when
 * the committed file differs from what this writes.
 *
 *   node deploy/observability/gen-prometheusrule.ts          # rewrite the file
 *   node deploy/observability/gen-prometheusrule.ts --check  # exit 1 if it is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const RULES_FILE = fileURLToPath(new URL('./alerts/framecast.rules.yml', import.meta.url));
export const PROMETHEUS_RULE_FILE = fileURLToPath(new URL('../k8s/monitoring/prometheusrule.yaml', import.meta.url));

const HEADER = `# GENERATED from deploy/observability/alerts/framecast.rules.yml by
# deploy/observability/gen-prometheusrule.ts: edit the rules file, then run
#   node deploy/observability/gen-prometheusrule.ts
# The Prometheus Operator picks this object up when its ruleSelector matches these labels (a
# kube-prometheus-stack install usually wants \`release: <its release name>\`: add it in an overlay).
`;

/** The PrometheusRule manifest for the rules file's text. */
export function prometheusRuleYaml(rulesText: string): string {
  const rules = parse(rulesText) as { groups?: unknown[] };
  if (!Array.isArray(rules.groups) || rules.groups.length === 0) throw new Error(`${RULES_FILE}: no rule groups`);
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'framecast',
      labels: { 'app.kubernetes.io/name': 'framecast', 'app.kubernetes.io/part-of': 'framecast', 'app.kubernetes.io/component': 'alerts' },
    },
    spec: { groups: rules.groups },
  };
  // lineWidth 0: expressions stay on the lines they were written on.
  return HEADER + stringify(object, { lineWidth: 0 });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const want = prometheusRuleYaml(readFileSync(RULES_FILE, 'utf8'));
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(PROMETHEUS_RULE_FILE, 'utf8');
    } catch {
      // missing: out of date
    }
    if (have !== want) {
      console.error(`${PROMETHEUS_RULE_FILE} is out of date: run node deploy/observability/gen-prometheusrule.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(PROMETHEUS_RULE_FILE, want);
    console.log(`wrote ${PROMETHEUS_RULE_FILE}`);
  }
}
