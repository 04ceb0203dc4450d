// The fault campaign's invariants can fail: with --sabotage the campaign's driver (never the SDK)
// breaks each one on purpose on a few refunds, and the campaign must report every one broken and
// exit 1. (npm test runs the campaign unsabotaged: seed 1, 2,000 refunds, every invariant 0.)
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('reports every invariant broken when the driver breaks each on purpose', () => {
  const run = spawnSync(process.execPath, ['scripts/run-ts.mjs', 'scripts/chaos.ts', '--seed', '7', '--refunds', '400', '--sabotage'], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(run.status, run.stderr).toBe(1);
  const invariants = run.stdout.slice(run.stdout.indexOf('invariants (all must be 0)')).split('\n').slice(1, 12);
  expect(invariants).toHaveLength(11);
  for (const line of invariants) expect(Number(/\.+ (\d+)$/.exec(line)?.[1]), line).toBeGreaterThan(0);
  expect(run.stderr).toMatch(/^BROKEN: applied twice, .*sockets left open/m);
}, 240_000);
