// The runner the scripted suites share (the dist smoke test, the consumer suite, the package
// checks): named checks printed as ✓/✗, and a { passed, failed } report in test-results/ that
// `.ci/run`'s final "N passed, N failed" line adds up.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function checklist(name) {
  const results = { passed: 0, failed: 0 };
  return {
    results,
    /** Runs one check; a throw fails it, with its stack indented under the name. */
    async check(title, fn) {
      try {
        await fn();
        results.passed += 1;
        console.log(`  ✓ ${title}`);
      } catch (error) {
        results.failed += 1;
        console.log(`  ✗ ${title}\n    ${String(error?.stack ?? error).split('\n').join('\n    ')}`);
      }
    },
    /** Counts a check decided elsewhere (a tool's exit status). */
    record(title, ok, detail = '') {
      results[ok ? 'passed' : 'failed'] += 1;
      console.log(`  ${ok ? '✓' : '✗'} ${title}`);
      if (!ok && detail) console.log(detail.replace(/^/gm, '    '));
    },
    /** Prints the total, writes test-results/<name>.json under `root`, sets the exit code. */
    finish(root = '.') {
      console.log(`${name}: ${results.passed} passed, ${results.failed} failed`);
      mkdirSync(join(root, 'test-results'), { recursive: true });
      writeFileSync(join(root, 'test-results', `${name}.json`), JSON.stringify(results));
      process.exitCode = results.failed === 0 ? 0 : 1;
    },
  };
}
