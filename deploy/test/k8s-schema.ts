import * as promOperator from '@kubernetes-models/prometheus-operator';
import * as kubernetes from 'kubernetes-models';
import type { K8sObject } from './deploy-files.ts';

/**
 * Strict, offline validation of rendered Kubernetes objects against the API's own schema.
 *
 * kubernetes-models (and @kubernetes-models/prometheus-operator for ServiceMonitor and
 * PrometheusRule) ship a validator per kind, compiled from the Kubernetes OpenAPI document (and the
 * operator's CRDs): it checks types, formats, enums and required fields. It does not reject a field
 * the schema does not have (the OpenAPI document sets no `additionalProperties: false`), so a typo
 * such as `readinessProbe.httpGt` passes it while the API server would reject it (kubectl's
 * strict field validation) or, worse, silently drop it under a lenient client.
 *
 * Unknown fields are found with the validator itself: it reads exactly the properties its schema
 * declares (and every key of a map-typed field, such as labels), so the object is handed to it
 * behind a Proxy that records every property read. A field the validator never read is one its
 * schema does not know. Only free-form fields (x-kubernetes-preserve-unknown-fields) would be
 * reported wrongly, and the manifests use none.
 */

interface ModelClass {
  prototype: { validate(): void };
}

type ModelNamespace = Record<string, Record<string, ModelClass | undefined> | undefined>;

const MODELS: ModelNamespace = { ...(kubernetes as unknown as ModelNamespace), ...(promOperator as unknown as ModelNamespace) };

/** The model class for an apiVersion and kind: `apps/v1` Deployment is kubernetes-models' `apps.v1.Deployment`. */
function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : [null, apiVersion];
  // kubernetes-models names an API group in camel case: networking.k8s.io -> networkingK8sIo.
  const versions = group === null ? (kubernetes as unknown as ModelNamespace) : (MODELS[group.replace(/\.(\w)/g, (_m, c: string) => c.toUpperCase())] as unknown as ModelNamespace | undefined);
  return versions?.[version]?.[kind];
}

/** `spec.template.spec.containers[0].readinessProbe` from path segments. */
function pathText(segments: readonly string[]): string {
  return segments.reduce((out, s) => (/^\d+$/.test(s) ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
}

/** Wraps `value` so that every own property read (at any depth) is added to `read` by its path. */
function recordingReads(value: unknown, path: readonly string[], read: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !Object.hasOwn(target, prop)) return v;
      const p = [...path, prop];
      read.add(pathText(p));
      return recordingReads(v, p, read);
    },
  });
}

/** Every field of `value` that was not read, outermost only (an unknown field's children are not listed again). */
function unread(value: unknown, path: readonly string[], read: Set<string>, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    const p = [...path, key];
    const text = pathText(p);
    if (!read.has(text)) out.push(text);
    else unread(child, p, read, out);
  }
}

/**
 * kustomize writes a generated Secret's base64 values in lines of 70 characters (a YAML block),
 * which the API server accepts (Go's base64 decoder skips newlines) and the validator's `byte`
 * format does not: the lines are joined first, as the server would.
 */
function asTheApiServerDecodes(obj: K8sObject): K8sObject {
  const data = (obj as { data?: unknown }).data;
  if (obj.apiVersion !== 'v1' || obj.kind !== 'Secret' || data === null || typeof data !== 'object') return obj;
  const joined = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...obj, data: joined };
}

/**
 * Everything wrong with `obj` by its kind's schema: validation errors and unknown fields, one
 * line each (empty when it is valid). An apiVersion/kind without a model is itself a problem.
 */
export function schemaProblems(input: K8sObject): string[] {
  const obj = asTheApiServerDecodes(input);
  const model = modelFor(obj.apiVersion, obj.kind);
  if (!model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  const problems: string[] = [];
  const read = new Set<string>();
  try {
    model.prototype.validate.call(recordingReads(obj, [], read));
  } catch (err) {
    problems.push(...String((err as Error).message).split('\n').filter(Boolean));
  }
  const unknown: string[] = [];
  unread(obj, [], read, unknown);
  problems.push(...unknown.map((p) => `${p}: unknown field`));
  return problems;
}

/** Problems of every object, keyed `Kind/name`; objects without any are left out. */
export function allSchemaProblems(objects: K8sObject[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const o of objects) {
    const problems = schemaProblems(o);
    if (problems.length > 0) out[`${o.kind}/${o.metadata.name}`] = problems;
  }
  return out;
}
