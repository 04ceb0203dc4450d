// Every code block in README.md and docs/*.md is a test (`npm run test:docs`, after the build):
//   - each `ts`/`js` block type-checks on its own, under `strict` with `nodenext`, against the
//     built package (`clawback` resolves to dist/ by the package's own exports, as in an app);
//   - a block whose info string says `run` runs (Node, with test/docs/preload.mjs: the emulator
//     behind the vendors' real URLs, its keys in the environment), and what it prints must equal
//     the `text` block right after it (nothing, when there is none);
//   - a block with `file=<path>` or `file=<path>#<region>` must equal that file, or the lines
//     between `// #region <region>` and `// #endregion <region>` in it;
//   - every relative link points at a file that exists, and every `#anchor` at a heading in it.
//   - a block whose info string says `errors` must fail to type-check with exactly the
//     diagnostics of the `text` block after it (a compile error the docs promise);
// Blocks are found by a markdown parser (mdast), not by regular expressions.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import GithubSlugger from 'github-slugger';
import type { Code, Heading, Link, Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { toString } from 'mdast-util-to-string';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the package (and not under test-results/, whose package.json is a report), so that
// `import … from 'clawback'` resolves to the build through the package's own `exports`, as it
// does in a merchant's app. Git ignores it.
const out = join(root, 'test/docs/.blocks');
const RUN_TIMEOUT_MS = 60_000;

interface Block {
  doc: string;
  line: number;
  lang: string;
  meta: Set<string>;
  file: string | undefined;
  code: string;
  expected: string | undefined;
  /** The generated file, relative to `out`. */
  name: string;
}

const docs = ['README.md', ...readdirSync(join(root, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .sort()
  .map((file) => `docs/${file}`)];

const trees = new Map<string, Root>(docs.map((doc) => [doc, fromMarkdown(readFileSync(join(root, doc), 'utf8'))]));

function walk(node: Nodes, visit: (node: Nodes, siblings: readonly Nodes[], index: number) => void) {
  if (!('children' in node)) return;
  node.children.forEach((child, index) => {
    visit(child, node.children, index);
    walk(child, visit);
  });
}

const blocks: Block[] = [];
for (const [doc, tree] of trees) {
  walk(tree, (node, siblings, index) => {
    if (node.type !== 'code' || !['ts', 'js'].includes(node.lang ?? '')) return;
    const meta = (node.meta ?? '').split(/\s+/).filter(Boolean);
    const next = siblings[index + 1];
    const line = node.position?.start.line ?? 0;
    blocks.push({
      doc,
      line,
      lang: node.lang as string,
      meta: new Set(meta),
      file: meta.find((word) => word.startsWith('file='))?.slice('file='.length),
      code: node.value,
      expected: next?.type === 'code' && next.lang === 'text' ? (next as Code).value : undefined,
      name: `${doc.replace(/[/.]/g, '_')}_L${line}.${node.lang === 'ts' ? 'ts' : 'mjs'}`,
    });
  });
}

/** TypeScript's diagnostics per generated file, from one `tsc` run over every block. */
function typecheck(): Map<string, string[]> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const block of blocks) {
    // `export {}` keeps each block a module of its own (a block may have no import).
    writeFileSync(join(out, block.name), `${block.code}\nexport {};\n`);
  }
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2023',
        lib: ['es2023'],
        types: ['node'],
        skipLibCheck: true,
        noEmit: true,
        allowJs: true,
        checkJs: true,
      },
      include: ['*.ts', '*.mjs'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
  });
  const diagnostics = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const text of tsc.stdout.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(text);
    if (match) {
      const name = relative(out, resolve(root, match[1] as string));
      current = diagnostics.get(name) ?? [];
      diagnostics.set(name, current);
      current.push(`line ${match[2]} of the block: ${match[4]}`);
    } else if (text.startsWith(' ') && current) {
      current[current.length - 1] += `\n${text}`;
    } else if (text.trim()) {
      // Not about one block (a broken tsconfig, a missing @types): fail every block with it.
      for (const block of blocks) diagnostics.set(block.name, [...(diagnostics.get(block.name) ?? []), text]);
    }
  }
  return diagnostics;
}

function run(block: Block): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const file = join(out, block.name.replace(/\.(ts|mjs)$/, '.run.mjs'));
  writeFileSync(file, transformSync(block.code, { loader: 'ts', format: 'esm', target: 'node22' }).code);
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', join(root, 'test/docs/preload.mjs'), file], {
      cwd: out,
      env: { ...process.env, NODE_NO_WARNINGS: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => done({ stdout, stderr, status }));
  });
}

/** The content a `file=` block shows: the whole file, or one `#region`. */
function shown(reference: string): string {
  const [path, region] = reference.split('#') as [string, string | undefined];
  const text = readFileSync(join(root, path), 'utf8');
  if (!region) return text.replace(/\n$/, '');
  const match = new RegExp(`// #region ${region}\\n([\\s\\S]*?)\\n// #endregion ${region}`).exec(text);
  if (!match) throw new Error(`${path} has no region "${region}"`);
  return match[1] as string;
}

/** The anchors GitHub gives a markdown file's headings, worked out once per file. */
const anchorsByDoc = new Map<string, Set<string>>();
function anchorsOf(doc: string): Set<string> {
  let anchors = anchorsByDoc.get(doc);
  if (!anchors) {
    const slugger = new GithubSlugger();
    const found = new Set<string>();
    walk(trees.get(doc) ?? fromMarkdown(readFileSync(join(root, doc), 'utf8')), (node) => {
      if (node.type === 'heading') found.add(slugger.slug(toString(node as Heading)));
    });
    anchors = found;
    anchorsByDoc.set(doc, anchors);
  }
  return anchors;
}

const diagnostics = typecheck();

describe.each(docs)('%s', (doc) => {
  const mine = blocks.filter((block) => block.doc === doc);

  const compiles = mine.filter((block) => !block.meta.has('errors'));
  it.each(compiles.map((block) => [`line ${block.line}: type-checks`, block] as const))('%s', (_, block) => {
    expect(diagnostics.get(block.name) ?? [], `${doc} line ${block.line}`).toEqual([]);
  });

  const refused = mine.filter((block) => block.meta.has('errors'));
  it.each(refused.map((block) => [`line ${block.line}: fails to compile as the text says`, block] as const))('%s', (_, block) => {
    const got = (diagnostics.get(block.name) ?? []).map((diagnostic) => diagnostic.replace(/^line \d+ of the block: /, ''));
    expect(got.join('\n')).toBe((block.expected ?? '(a text block with the expected errors)').trimEnd());
  });

  const runnable = mine.filter((block) => block.meta.has('run'));
  it.each(runnable.map((block) => [`line ${block.line}: runs and prints what the text says`, block] as const))('%s', async (_, block) => {
    const { stdout, stderr, status } = await run(block);
    expect(status, `${doc} line ${block.line} exited ${status}:\n${stderr}`).toBe(0);
    expect(stdout.trimEnd()).toBe((block.expected ?? '').trimEnd());
  }, RUN_TIMEOUT_MS + 5_000);

  const shows = mine.filter((block) => block.file);
  it.each(shows.map((block) => [`line ${block.line}: is ${block.file} verbatim`, block] as const))('%s', (_, block) => {
    expect(block.code).toBe(shown(block.file as string));
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    walk(trees.get(doc) as Root, (node) => {
      if (node.type !== 'link' && node.type !== 'definition') return;
      const url = (node as Link).url;
      if (/^[a-z]+:/i.test(url)) return;
      const [path, anchor] = url.split('#') as [string, string | undefined];
      const target = path ? relative(root, resolve(root, dirname(doc), path)) : doc;
      if (!existsSync(join(root, target))) broken.push(`${url}: no file ${target}`);
      else if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${url}: no heading #${anchor} in ${target}`);
    });
    expect(broken).toEqual([]);
  });
});

describe('README', () => {
  it('is a front door: under 400 lines, install and a runnable quickstart on the first screen', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(400);
    const firstScreen = readme.split('\n').slice(0, 60).join('\n');
    expect(firstScreen).toContain('npm install clawback');
    const quickstart = blocks.find((block) => block.doc === 'README.md');
    expect(quickstart?.meta.has('run')).toBe(true);
    expect(quickstart?.line).toBeLessThan(60);
  });

  it('names the test command that .ci/run calls', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('npm test');
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^\s*npm test$/m);
  });
});
