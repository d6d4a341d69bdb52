/**
 * Holds the dependency rule of docs ARCHITECTURE.md by reading the sources: core is pure,
 * app sees only core and ports, render sees only core, adapters and channels never see each
 * other, and only main.ts / cli.ts wire concrete classes together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

interface SourceFile {
  /** Path relative to the repository root, with `/` separators: `src/core/money.ts`. */
  readonly path: string;
  readonly text: string;
}

interface ImportRef {
  readonly specifier: string;
  /** Resolved `src/…` path for a relative specifier (with `.js` mapped to `.ts`), else undefined. */
  readonly target: string | undefined;
}

function listSourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listSourceFiles(full));
    else if (/\.(ts|mts|cts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(full);
  }
  return files;
}

function readSources(): SourceFile[] {
  return listSourceFiles(SRC)
    .map((file) => ({ path: relative(ROOT, file).split(sep).join('/'), text: readFileSync(file, 'utf8') }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Removes comments so that prose such as "imports nothing" or "no Date.now()" in a doc
 * comment is not read as code. String literals are kept as they are (a `//` inside a URL
 * string is not a comment).
 */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    const next = text[i + 1];
    if (char === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const comment = end === -1 ? text.slice(i) : text.slice(i, end + 2);
      out += comment.replace(/[^\n]/g, ' ');
      i += comment.length;
    } else if (char === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (char === "'" || char === '"' || char === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== char) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

// `import x from 'm'`, `import type { A,\n B } from 'm'`, `import * as m from 'm'`, `import 'm'`,
// `export { a } from 'm'`, `export type { A } from 'm'`, `export * as ns from 'm'`.
const STATIC_IMPORT = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w$*{},\s]*?\s*from\s*)?(['"])([^'"\n]+)\1/g;
// `import('m')`, `await import ( "m" )`.
const DYNAMIC_IMPORT = /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

/** Every module specifier a source text imports or re-exports from, in order of appearance. */
function findSpecifiers(text: string): string[] {
  const code = stripComments(text);
  const found: Array<{ index: number; specifier: string }> = [];
  for (const match of code.matchAll(STATIC_IMPORT)) found.push({ index: match.index, specifier: match[2]! });
  for (const match of code.matchAll(DYNAMIC_IMPORT)) found.push({ index: match.index, specifier: match[2]! });
  return found.sort((a, b) => a.index - b.index).map((entry) => entry.specifier);
}

function resolveImport(fromPath: string, specifier: string): ImportRef {
  if (!specifier.startsWith('.')) return { specifier, target: undefined };
  const joined = posix.normalize(posix.join(posix.dirname(fromPath), specifier));
  return { specifier, target: joined.replace(/\.(m|c)?js$/, '.$1ts') };
}

function importsOf(file: SourceFile): ImportRef[] {
  return findSpecifiers(file.text).map((specifier) => resolveImport(file.path, specifier));
}

const isPackage = (ref: ImportRef): boolean => ref.target === undefined;
const under = (folder: string) => (ref: ImportRef) => ref.target !== undefined && ref.target.startsWith(`${folder}/`);
const isFile = (path: string) => (ref: ImportRef) => ref.target === path;
const inCore = under('src/core');
const inApp = under('src/app');
const inRender = under('src/render');
const inAdapters = under('src/adapters');
const inChannels = under('src/channels');
const isPorts = (ref: ImportRef) => isFile('src/ports.ts')(ref) || under('src/ports')(ref);
const isMain = isFile('src/main.ts');

/** The first folder below src/adapters that a path lives in: `src/adapters/db`. */
function adapterFolder(path: string): string {
  return path.split('/').slice(0, 3).join('/');
}

interface Rule {
  readonly name: string;
  readonly appliesTo: (path: string) => boolean;
  /** Returns a reason when the import breaks the rule. */
  readonly check: (ref: ImportRef, file: SourceFile) => string | undefined;
}

const RULES: readonly Rule[] = [
  {
    name: 'core imports only core (no packages, no node: builtins)',
    appliesTo: (path) => path.startsWith('src/core/'),
    check: (ref) => (inCore(ref) ? undefined : isPackage(ref) ? 'package in core' : 'outside src/core'),
  },
  {
    name: 'app imports only core, ports, app and zod',
    appliesTo: (path) => path.startsWith('src/app/'),
    // zod is the one package: tool arguments from the model are validated where the tools are defined.
    check: (ref) =>
      inCore(ref) || isPorts(ref) || inApp(ref) || ref.specifier === 'zod' ? undefined : isPackage(ref) ? 'package in app' : 'outside core/ports/app',
  },
  {
    name: 'render imports only core and render',
    appliesTo: (path) => path.startsWith('src/render/'),
    check: (ref) => (inCore(ref) || inRender(ref) ? undefined : isPackage(ref) ? 'package in render' : 'outside core/render'),
  },
  {
    name: 'ports imports only core',
    appliesTo: (path) => path === 'src/ports.ts' || path.startsWith('src/ports/'),
    check: (ref) => (inCore(ref) || isPorts(ref) ? undefined : 'ports must only describe interfaces over core types'),
  },
  {
    name: 'adapters import packages, core, ports and their own adapter folder only',
    appliesTo: (path) => path.startsWith('src/adapters/'),
    check: (ref, file) => {
      if (isPackage(ref) || inCore(ref) || isPorts(ref)) return undefined;
      if (under(adapterFolder(file.path))(ref)) return undefined;
      if (inAdapters(ref)) return `another adapter (${adapterFolder(ref.target!)})`;
      return 'outside core/ports/own adapter folder';
    },
  },
  {
    name: 'channels never import adapters or main.ts',
    appliesTo: (path) => path.startsWith('src/channels/'),
    check: (ref) => (inAdapters(ref) ? 'adapter in a channel' : isMain(ref) ? 'main.ts in a channel' : undefined),
  },
];

/** Files allowed to know both adapters and channels: the composition roots. */
const COMPOSITION_ROOTS = new Set(['src/main.ts', 'src/cli.ts']);

function findViolations(files: readonly SourceFile[]): string[] {
  const violations: string[] = [];
  for (const file of files) {
    const refs = importsOf(file);
    for (const rule of RULES) {
      if (!rule.appliesTo(file.path)) continue;
      for (const ref of refs) {
        const reason = rule.check(ref, file);
        if (reason) violations.push(`${file.path} → '${ref.specifier}' (${reason}; rule: ${rule.name})`);
      }
    }
    if (!COMPOSITION_ROOTS.has(file.path) && refs.some(inAdapters) && refs.some(inChannels)) {
      violations.push(`${file.path} → imports both adapters and channels (only ${[...COMPOSITION_ROOTS].join(' and ')} may)`);
    }
  }
  return violations;
}

/** Reading the clock in core: `Date.now`, or `new Date` with no arguments. */
const CLOCK_READ = /\bDate\s*\.\s*now\b|\bnew\s+Date\s*\(\s*\)|\bnew\s+Date\b(?!\s*\()/g;

function findClockReads(files: readonly SourceFile[]): string[] {
  const found: string[] = [];
  for (const file of files.filter((candidate) => candidate.path.startsWith('src/core/'))) {
    const code = stripComments(file.text);
    for (const match of code.matchAll(CLOCK_READ)) {
      const line = code.slice(0, match.index).split('\n').length;
      found.push(`${file.path}:${line} → ${match[0]} (core takes a Clock; it never reads the time)`);
    }
  }
  return found;
}

describe('the import scanner', () => {
  it('finds import type, multi-line imports, export … from, side-effect and dynamic imports', () => {
    const text = [
      "import type { Reply } from '../core/reply.js';",
      'import {',
      '  addDays,',
      '  type DateRange,',
      "} from '../core/period.js';",
      "import cron, { type ScheduledTask } from 'node-cron';",
      "import * as schema from './schema.js';",
      "import './side-effect.js';",
      "export type { Logger } from 'pino';",
      "export { a, b as c } from './a.js';",
      "export * from './star.js';",
      "export * as ns from \"./ns.js\";",
      "const { Signer } = await import('@aws-sdk/rds-signer');",
      "const lazy = () => import ( './lazy.js' );",
      "export const url = 'https://slack.com/api/';",
      "export const notAnImport = 'import x from \"nope\"';",
    ].join('\n');

    expect(findSpecifiers(text)).toEqual([
      '../core/reply.js',
      '../core/period.js',
      'node-cron',
      './schema.js',
      './side-effect.js',
      'pino',
      './a.js',
      './star.js',
      './ns.js',
      '@aws-sdk/rds-signer',
      './lazy.js',
    ]);
  });

  it('ignores imports written in comments', () => {
    const text = ["// import x from 'commented-out';", "/* import y from 'also-commented';", "   export * from 'z'; */", "import real from './real.js';"].join('\n');

    expect(findSpecifiers(text)).toEqual(['./real.js']);
  });

  it('flags clock reads, and only argument-less new Date', () => {
    const sample = (text: string): string[] => findClockReads([{ path: 'src/core/sample.ts', text }]);

    expect(sample('const t = Date.now();')).toHaveLength(1);
    expect(sample('const d = new Date();')).toHaveLength(1);
    expect(sample('const d = new Date ( );')).toHaveLength(1);
    expect(sample('const d = new Date;')).toHaveLength(1);
    expect(sample('const d = new Date(Date.UTC(2024, 0, 1));')).toEqual([]);
    expect(sample('const d = new Date(epochMs);')).toEqual([]);
    expect(sample('/** never call Date.now() or new Date() here */ const x = 1;')).toEqual([]);
    expect(findClockReads([{ path: 'src/app/sample.ts', text: 'Date.now();' }])).toEqual([]);
  });

  it('sees the real sources: main.ts wires adapters and channels, app uses core and ports', () => {
    const files = readSources();
    const byPath = new Map(files.map((file) => [file.path, file]));
    const main = byPath.get('src/main.ts');
    const core = files.filter((file) => file.path.startsWith('src/core/'));
    const app = files.filter((file) => file.path.startsWith('src/app/'));

    expect(main, 'src/main.ts exists').toBeDefined();
    expect(core.length).toBeGreaterThan(0);
    expect(app.length).toBeGreaterThan(0);
    const mainRefs = importsOf(main!);
    expect(mainRefs.some(inAdapters), 'main.ts imports an adapter').toBe(true);
    expect(mainRefs.some(inChannels), 'main.ts imports a channel').toBe(true);
    expect(app.flatMap(importsOf).some(inCore)).toBe(true);
    expect(app.flatMap(importsOf).some(isPorts)).toBe(true);
    expect(files.flatMap(importsOf).length).toBeGreaterThan(50);
  });

  it('agrees with the TypeScript pre-processor on every source file', () => {
    const disagreements: string[] = [];
    for (const file of readSources()) {
      const info = ts.preProcessFile(file.text, true, true);
      const expected = [...new Set(info.importedFiles.map((ref) => ref.fileName))].sort();
      const actual = [...new Set(findSpecifiers(file.text))].sort();
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        disagreements.push(`${file.path}: scanner ${JSON.stringify(actual)} vs typescript ${JSON.stringify(expected)}`);
      }
    }

    expect(disagreements, disagreements.join('\n')).toEqual([]);
  });

  it('finds a violation when one is planted', () => {
    const planted: SourceFile[] = [
      { path: 'src/core/bad.ts', text: "import { readFileSync } from 'node:fs';\nimport type { Clock } from '../ports.js';" },
      { path: 'src/app/bad.ts', text: "import {\n  PgCostStore,\n} from '../adapters/db/cost-store.js';" },
      { path: 'src/render/bad.ts', text: "export { x } from '../app/engine.js';" },
      { path: 'src/adapters/db/bad.ts', text: "const m = await import('../../channels/http/http-server.js');" },
      { path: 'src/channels/x/bad.ts', text: "import type { Database } from '../../adapters/db/database.js';" },
      { path: 'src/wiring.ts', text: "import './adapters/db/database.js';\nimport './channels/http/http-server.js';" },
    ];

    const violations = findViolations(planted);

    expect(violations).toHaveLength(7);
    for (const file of planted) expect(violations.some((line) => line.startsWith(`${file.path} →`)), file.path).toBe(true);
  });
});

describe('the dependency rule', () => {
  const files = readSources();

  it('every import in src/ respects the layer it is in', () => {
    const violations = findViolations(files);

    expect(violations, `dependency rule broken:\n  ${violations.join('\n  ')}`).toEqual([]);
  });

  it('core never reads the clock', () => {
    const reads = findClockReads(files);

    expect(reads, `clock read in core:\n  ${reads.join('\n  ')}`).toEqual([]);
  });
});
