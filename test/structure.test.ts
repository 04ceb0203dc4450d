// Rules about how the source is built that no behaviour test would notice breaking: one job per
// file in src/core (a reader finds a rule in one place), and no hand-written code where a
// well-kept library does the job (the stack is ky, zod and @noble/hashes at run time).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const sourceFiles = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

describe('source layout', () => {
  it('no file in src/core is over 300 lines', () => {
    const long = sourceFiles('src/core')
      .map((file) => ({ file, lines: read(file).split('\n').length }))
      .filter(({ lines }) => lines > 300);
    expect(long).toEqual([]);
  });

  it('SHA-256 and HMAC come from @noble/hashes: no hand-written hash in src/', () => {
    // The first SHA-256 round constant (FIPS 180-4 §4.2.2) appears in any implementation of it.
    const handWritten = sourceFiles('src').filter((file) => /0x428a2f98/i.test(read(file)));
    expect(handWritten).toEqual([]);
    expect(read('src/compat/refcampaign.ts')).toMatch(/from '@noble\/hashes\/hmac\.js'/);
  });

  it('the run-time dependencies are ky, zod and @noble/hashes, nothing else', () => {
    const { dependencies } = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(dependencies).sort()).toEqual(['@noble/hashes', 'ky', 'zod']);
  });
});
