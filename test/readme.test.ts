import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('README', () => {
  it('shows the merchant example exactly as test/testing/merchant-example.test.ts runs it', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Testing your refunds'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    const tested = /\/\/ #region readme\n([\s\S]*?)\/\/ #endregion readme/.exec(read('test/testing/merchant-example.test.ts'))?.[1];
    expect(snippet).toBeDefined();
    expect(tested).toBe(snippet);
  });

  it('names the test command that .ci/run calls', () => {
    expect(read('README.md')).toContain('npm test');
    expect(read('.ci/run')).toMatch(/^\s*npm test$/m);
  });
});
