// Prints "N passed, N failed" from the reports `npm test` leaves in test-results/. A step that
// failed without a report (install, typecheck, build, an example) counts as one failure, so a
// red run can never print "0 failed".
import { existsSync, readFileSync } from 'node:fs';

const exitStatus = Number(process.argv[2] ?? 1);
const read = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
const vitest = read('test-results/vitest.json');
const smoke = read('test-results/smoke.json');

const passed = (vitest?.numPassedTests ?? 0) + (smoke?.passed ?? 0);
let failed = (vitest?.numFailedTests ?? 0) + (smoke?.failed ?? 0);
if (exitStatus !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = exitStatus === 0 && failed === 0 ? 0 : 1;
