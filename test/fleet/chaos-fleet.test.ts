// The fleet campaign's invariants can fail: with --sabotage its workers (never the SDK) break each
// on purpose, and the campaign must report every one broken and exit 1. (npm test runs it
// unsabotaged: --fleet --seed 1 --refunds 200 --workers 4, every invariant 0.)
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';

it('reports every fleet invariant broken when the workers break each on purpose', async () => {
  const child = spawn(process.execPath, ['scripts/run-ts.mjs', 'scripts/chaos.ts', '--fleet', '--seed', '3', '--refunds', '80', '--workers', '3', '--sabotage'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(1);
  const invariants = stdout.slice(stdout.indexOf('invariants (all must be 0)')).split('\n').slice(1, 9);
  expect(invariants).toHaveLength(8);
  for (const line of invariants) expect(Number(/\.+ (\d+)$/.exec(line)?.[1]), line).toBeGreaterThan(0);
  expect(stderr).toMatch(/^BROKEN: applied twice, .*untyped errors/m);
}, 180_000);
