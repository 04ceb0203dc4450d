// The built CLI with a fleet's ledger (--ledger redis://… | postgres://…) against the emulator:
// RefCampaign partial refunds in a file, sent once; an ambiguous one held, listed, settled by an
// operator, then sent; a second run replaying what is done (with --no-journal); and the refusals.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EMULATOR_API_KEYS, startEmulator, type RunningEmulator } from 'clawback/testing';

const CLI = join(process.cwd(), 'dist/cli.cjs');
const dirs: string[] = [];
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ rateLimits: { refcampaign: false } });
});
afterAll(async () => {
  await emulator.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, REFCAMPAIGN_API_KEY: EMULATOR_API_KEYS.refcampaign }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

let count = 0;
/** A file of two RefCampaign partial refunds of fresh conversions. */
function partialRefunds() {
  const ids = [`order_cli_${(count += 1)}`, `order_cli_${(count += 1)}`];
  emulator.emulator.seed({ refcampaign: ids.map((id) => ({ id, sale: { value: 10_000, currency: 'USD' }, commissionStatus: 'approved' as const })) });
  const dir = mkdtempSync(join(tmpdir(), 'clawback-cli-ledger-'));
  dirs.push(dir);
  const file = join(dir, 'refunds.csv');
  writeFileSync(file, `conversion_id,amount,currency,refund_id\n${ids[0]},2500,USD,re_${ids[0]}\n${ids[1]},1000,USD,re_${ids[1]}\n`);
  return { ids, file };
}
const refundsOf = (conversionId: string) => emulator.ledger.refunds({ provider: 'refcampaign' }).filter((entry) => entry.conversionId === conversionId);

describe.each([
  { store: 'Redis', url: () => inject('redisUrl'), namespace: ['--ledger-prefix', `cli-${process.pid}:`] },
  { store: 'PostgreSQL', url: () => inject('postgresUrl'), namespace: ['--ledger-table', `cli_ledger_${process.pid}`] },
])('clawback with a $store ledger', ({ url, namespace }) => {
  const ledger = () => ['--ledger', url(), ...namespace];

  it('refunds RefCampaign partial refunds once; an ambiguous one is held, listed and settled; a run again replays what is done', async () => {
    const { ids, file } = partialRefunds();
    const refundArgs = ['refund', '--provider', 'refcampaign', '--file', file, '--amount-unit', 'minor', '--base-url', emulator.baseURLs.refcampaign, ...ledger(), '--no-journal'];
    emulator.inject({ provider: 'refcampaign', conversionId: ids[1], status: 500 });
    const first = await cli(refundArgs);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`row 1 ${ids[0]}: accepted`);
    expect(first.stdout).toMatch(/1 of them may have been applied, and the vendor cannot recognise a repeat: the ledger holds them until you settle them\. Check each at the vendor, then: clawback ledger list --state ambiguous --ledger /);
    expect(first.stdout).not.toContain('--resume');

    const listed = await cli(['ledger', 'list', '--state', 'ambiguous', ...ledger()]);
    expect(listed.code).toBe(0);
    const id = /^ambiguous +(refcampaign:[0-9a-f]+:\S+)$/m.exec(listed.stdout)?.[1] as string;
    expect(listed.stdout).toContain(`conversion ${ids[1]}, 10 USD, 1 send`);
    expect(listed.stdout).toMatch(/1 entry ambiguous in /);

    // Held: a run again does not send it (RefCampaign cannot tell a repeat of a partial refund).
    const held = await cli(refundArgs);
    expect(held.stdout).toContain(`row 1 ${ids[0]}: already refunded (duplicate)`);
    expect(held.stdout).toContain(`row 2 ${ids[1]}: FAILED UnsettledRefundError`);
    expect(held.stdout).toContain(`clawback ledger resolve ${id} --applied`);

    const refused = await cli(['ledger', 'resolve', id, ...ledger()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('give exactly one of --applied or --not-applied');
    const settled = await cli(['ledger', 'resolve', id, '--not-applied', ...ledger()]);
    expect(settled.stdout).toBe(`settled: ${id} removed as not applied; the next call with its key sends it\n`);

    const last = await cli(refundArgs);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain(`row 2 ${ids[1]}: accepted`);
    expect(ids.map((id) => refundsOf(id).length)).toEqual([1, 1]);
    // Now applied: it cannot be settled as not applied (it would be sent again).
    const guard = await cli(['ledger', 'resolve', id, '--not-applied', ...ledger()]);
    expect(guard.code).toBe(2);
    expect(guard.stderr).toMatch(/is applied: the vendor confirmed it, so there is nothing to settle/);
  });
});

describe('clawback --ledger refusals', () => {
  it('--no-journal needs --ledger, a ledger URL needs a known scheme, and an unreachable ledger sends nothing', async () => {
    const { file, ids } = partialRefunds();
    const base = ['refund', '--provider', 'refcampaign', '--file', file, '--amount-unit', 'minor', '--base-url', emulator.baseURLs.refcampaign];
    const noJournal = await cli([...base, '--no-journal']);
    expect(noJournal).toMatchObject({ code: 2, stderr: 'clawback: --no-journal needs --ledger: without a journal or a ledger, running the file again could not tell which rows were done\n' });
    const scheme = await cli(['ledger', 'list', '--ledger', 'mysql://db']);
    expect(scheme).toMatchObject({ code: 2, stderr: 'clawback: --ledger must start with redis://, rediss://, postgres:// or postgresql:// (got mysql://db)\n' });
    const away = await cli([...base, '--ledger', 'redis://127.0.0.1:9']);
    expect(away.code).toBe(2);
    expect(away.stderr).toMatch(/^clawback: cannot reach the ledger at redis:\/\/127\.0\.0\.1:9/);
    expect(ids.map((id) => refundsOf(id).length)).toEqual([0, 0]);
  });
});
