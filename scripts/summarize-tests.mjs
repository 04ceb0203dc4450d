// Prints "N passed, N failed" from the reports `npm test` leaves in test-results/: vitest's
// JSON report, and { passed, failed } from the smoke test and the chaos campaign. A step that
// failed without a report (install, typecheck, build, the demo, an example) counts as one
// failure, so a red run can never print "0 failed".
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const exitStatus = Number(process.argv[2] ?? 1);
let passed = 0;
let failed = 0;
for (const file of existsSync('test-results') ? readdirSync('test-results') : []) {
  if (!file.endsWith('.json')) continue;
  const report = JSON.parse(readFileSync(`test-results/${file}`, 'utf8'));
  passed += report.numPassedTests ?? report.passed ?? 0;
  failed += report.numFailedTests ?? report.failed ?? 0;
}
if (exitStatus !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = exitStatus === 0 && failed === 0 ? 0 : 1;
