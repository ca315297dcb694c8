import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// packages/* are libraries: they may use each other, never the services or the apps built on
// them (apps/embedded is the one place that imports all three services). An arrow from packages/
// up to services/ or apps/ would make every service install the others through a shared library.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UPWARD = /^@framecast\/(gateway|registry|capture-agent|embedded)(\/|$)/;
const UPWARD_PATH = /(^|\/)(services|apps)\//;

const packages = readdirSync(join(ROOT, 'packages')).filter((name) => statSync(join(ROOT, 'packages', name)).isDirectory());

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === 'node_modules') return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Module specifiers of static imports and re-exports, side-effect imports, import() and require(). */
function importSpecifiers(source: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) specs.push(m[1]!);
  return specs;
}

describe('packages/* layering', () => {
  it('finds the packages and their sources', () => {
    expect(packages).toEqual(expect.arrayContaining(['config', 'protocol', 'bus']));
    expect(packages).not.toContain('embedded');
    expect(tsFiles(join(ROOT, 'packages', 'config', 'src')).length).toBeGreaterThan(0);
  });

  it('reads import specifiers the ways they are written', () => {
    const src = [
      "import { a } from '@framecast/gateway';",
      "import type { B } from '@framecast/registry/x';",
      "export * from '@framecast/capture-agent';",
      "import '@framecast/embedded';",
      "const m = await import('../../services/gateway/src/index.ts');",
      "import {\n  c,\n  d,\n} from '@framecast/registry-store';",
    ].join('\n');
    const specs = importSpecifiers(src);
    expect(specs.filter((s) => UPWARD.test(s))).toHaveLength(4);
    expect(specs.filter((s) => UPWARD_PATH.test(s))).toHaveLength(1);
    expect(specs).toContain('@framecast/registry-store');
    expect(UPWARD.test('@framecast/registry-store')).toBe(false);
  });

  it.each(packages)('packages/%s depends on no service or app in its package.json', (name) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as Record<string, unknown>;
    const deps = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys((manifest[field] as Record<string, string> | undefined) ?? {}),
    );
    expect(deps.filter((d) => UPWARD.test(d))).toEqual([]);
  });

  it.each(packages)('packages/%s/src imports no service or app', (name) => {
    const bad: string[] = [];
    // This file is skipped: its parser test writes the forbidden imports out as fixtures.
    for (const file of tsFiles(join(ROOT, 'packages', name, 'src')).filter((f) => f !== fileURLToPath(import.meta.url))) {
      for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
        if (UPWARD.test(spec) || UPWARD_PATH.test(spec)) bad.push(`${file.slice(ROOT.length)}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
