// The built CLI (dist/cli.cjs) run as a process against the emulator on loopback, as an
// operations person would run it. The emulator runs in this process, so its ledger judges
// "every row refunded exactly once".
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EMULATOR_API_KEYS,
  EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
  createEmulator,
  startEmulator,
  type ConversionSeed,
  type Emulator,
  type RunningEmulator,
} from 'clawback/testing';

const CLI = join(process.cwd(), 'dist/cli.cjs');
const keys = {
  AFFIXO_API_KEY: EMULATOR_API_KEYS.affixo,
  AFFONSO_API_KEY: EMULATOR_API_KEYS.affonso,
  REFCAMPAIGN_API_KEY: EMULATOR_API_KEYS.refcampaign,
  FIRSTPROMOTER_API_KEY: EMULATOR_API_KEYS.firstpromoter,
  FIRSTPROMOTER_ACCOUNT_ID: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
};

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `whenOutput` lets a test act (kill it) once its output matches. */
function cli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...keys, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout };
}

const run = (args: string[], options?: Parameters<typeof cli>[1]) => cli(args, options).done;

/** The folders this file made, removed when it is done. */
const made: string[] = [];
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clawback-cli-'));
  made.push(dir);
  return dir;
}

/** A fresh directory holding `name` with `content`: the refunds file of one test. */
function refundsFile(content: string, name = 'refunds.csv'): { dir: string; file: string } {
  const dir = workdir();
  const file = join(dir, name);
  writeFileSync(file, content);
  return { dir, file };
}

function csv(rows: Array<Record<string, string | number>>): string {
  const columns = Object.keys(rows[0] ?? {});
  return [columns.join(','), ...rows.map((row) => columns.map((column) => row[column] ?? '').join(','))].join('\n');
}

let emulator: Emulator;
let server: RunningEmulator;
// Affonso's largest plan, as documented: 3,000 per minute, bursts of 100 per second. The runs
// below say `--plan 3000` where they send more than a few rows.
const plan3000 = [
  { limit: 3_000, interval: 60_000 },
  { limit: 100, interval: 1_000 },
];
beforeAll(async () => {
  emulator = createEmulator({ rateLimits: { affonso: plan3000 } });
  server = await startEmulator({ emulator });
});
afterEach(() => emulator.reset());
afterAll(async () => {
  await server.close();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const usd = (value: number) => ({ value, currency: 'USD' });
function seedAffonso(count: number, sale = 10_000): string[] {
  const ids = Array.from({ length: count }, (_, index) => `com_${index + 1}`);
  emulator.seed({ affonso: ids.map((id): ConversionSeed => ({ id, sale: usd(sale) })) });
  return ids;
}
const refundedOnce = (provider: 'affonso' | 'firstpromoter' | 'affixo', id: string) =>
  emulator.ledger.refunds({ provider, conversionId: id }).length;

describe('clawback refund', () => {
  it('refunds every row of a CSV file once, and writes a journal and a summary', async () => {
    seedAffonso(3);
    const { file } = refundsFile(csv([
        { conversion_id: 'com_1', amount: '25.00', currency: 'USD', reason: 'chargeback', refund_id: 're_1' },
        { conversion_id: 'com_2', amount: '', currency: '', reason: 'fraud', refund_id: '' },
        { conversion_id: 'com_3', amount: '10.5', currency: 'usd', reason: '', refund_id: 're_3' },
      ]));
    const result = await run(['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'major', '--base-url', server.baseURLs.affonso]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/refunded: +3\n/);
    expect(result.stdout).toMatch(/failed: +0\n/);
    expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 2_500 });
    expect(emulator.ledger.conversion('affonso', 'com_2')).toMatchObject({ refunded: 10_000 });
    expect(emulator.ledger.conversion('affonso', 'com_3')).toMatchObject({ refunded: 1_050 });
    const journal = readFileSync(`${file}.journal.jsonl`, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(journal[0]).toMatchObject({ type: 'header', provider: 'affonso', rows: 3 });
    expect(journal.slice(1).map((entry) => [entry.row, entry.outcome]).sort()).toEqual([
      [1, 'refunded'],
      [2, 'refunded'],
      [3, 'refunded'],
    ]);
  });

  it('reads JSON Lines, with amounts in minor units', async () => {
    emulator.seed({ firstpromoter: [{ id: 'sale_1', sale: usd(5_000), lead: { email: 'a@example.com' } }] });
    const { file } = refundsFile(`${JSON.stringify({ conversion_id: 'sale_1', amount: 5000, currency: 'USD', email: 'a@example.com', refund_id: 're_fp_1' })}\n\n`, 'refunds.jsonl');
    const result = await run(['refund', '--provider', 'firstpromoter', '--file', file, '--amount-unit', 'minor', '--base-url', server.baseURLs.firstpromoter]);
    expect(result.code).toBe(0);
    expect(refundedOnce('firstpromoter', 'sale_1')).toBe(1);
    expect(emulator.ledger.conversion('firstpromoter', 'sale_1')).toMatchObject({ refunded: 5_000 });
  });

  describe('--dry-run', () => {
    it('prints what would be sent and sends nothing', async () => {
      seedAffonso(2);
      const { file } = refundsFile(csv([{ conversion_id: 'com_1', amount: '4950', currency: 'USD', refund_id: 're_1' }, { conversion_id: 'com_2', amount: '', currency: '', refund_id: '' }]));
      const result = await run(
        ['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--dry-run', '--base-url', server.baseURLs.affonso],
        { env: { AFFONSO_API_KEY: undefined } }, // no key needed to check a file
      );
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`row 1: POST ${server.baseURLs.affonso}/v1/conversions/com_1/refund {"amount":49.5,"currency":"USD","external_event_id":"cbm2_`);
      expect(result.stdout).toContain('dry run: 2 rows valid, 0 invalid; nothing was sent');
      expect(emulator.ledger.refunds()).toHaveLength(0);
      expect(existsSync(`${file}.journal.jsonl`)).toBe(false);
    });

    it('names every invalid row and why, through the SDK’s own validation', async () => {
      const { file } = refundsFile(csv([
          { conversion_id: 'com_1', amount: '49.50', currency: 'USD', email: '', refund_id: 're_1' },
          { conversion_id: '', amount: '100', currency: 'USD', email: '', refund_id: 're_2' },
          { conversion_id: 'com_3', amount: '100', currency: '', email: '', refund_id: 're_3' },
          { conversion_id: 'com_4', amount: '100', currency: 'XYZ', email: '', refund_id: 're_4' },
          { conversion_id: '..', amount: '', currency: '', email: '', refund_id: '' },
          { conversion_id: 'com_6', amount: '100', currency: 'USD', email: '', refund_id: 're_6' },
          { conversion_id: 'com_6', amount: '100', currency: 'USD', email: '', refund_id: 're_6' },
          { conversion_id: 'com_8', amount: '100', currency: 'USD', email: '', refund_id: '' },
        ]));
      const result = await run(['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--dry-run']);
      expect(result.code).toBe(2);
      expect(result.stdout).toContain('row 1: INVALID: amount: "49.50" is not a whole number of minor units');
      expect(result.stdout).toContain('row 2: INVALID: conversion_id: is empty');
      expect(result.stdout).toContain('row 3: INVALID: currency: is required with an amount');
      expect(result.stdout).toMatch(/row 4: INVALID: amount\.currency: is not a known ISO 4217 currency code/);
      expect(result.stdout).toMatch(/row 5: INVALID: conversionId: is not a valid Affonso conversion id/);
      expect(result.stdout).toMatch(/row 6: POST /);
      expect(result.stdout).toMatch(/row 7: INVALID: idempotency_key: row 6 would be sent with the same key \(derived from the same conversion and refund_id\)/);
      expect(result.stdout).toMatch(/row 8: INVALID: refund_id: is required for a row with an amount and no idempotency_key/);
      expect(result.stdout).toContain('dry run: 1 row valid, 7 invalid; nothing was sent');
    });
  });

  it('sends nothing when any row is invalid', async () => {
    seedAffonso(2);
    const { file } = refundsFile(csv([{ conversion_id: 'com_1', amount: '100', currency: 'USD', refund_id: 're_1' }, { conversion_id: 'com_2', amount: '1.5', currency: 'USD', refund_id: 're_2' }]));
    const result = await run(['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--base-url', server.baseURLs.affonso]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('row 2: amount: "1.5" is not a whole number of minor units');
    expect(result.stderr).toContain('1 of 2 rows are invalid; nothing was sent');
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it.each([
    [['--file', 'x.csv'], /--provider/],
    [['--provider', 'tapfiliate', '--file', 'x.csv'], /Allowed choices are affixo, affonso, refcampaign, firstpromoter/],
    [['--provider', 'affonso', '--file', 'missing.csv'], /cannot read missing.csv/],
    [['--provider', 'affonso', '--file', 'x.csv', '--plan', '500'], /--plan <rpm>' argument '500' is invalid. must be 300, 600, 1200 or 3000/],
    [['--provider', 'affonso', '--file', 'x.csv', '--concurrency', '0'], /must be a whole number from 1 to 64/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const result = await run(['refund', ...args], { cwd: workdir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a file with an unknown column, suggesting the right one', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'r.csv'), 'conversion_id,ammount\ncom_1,100\n');
    const result = await run(['refund', '--provider', 'affonso', '--file', 'r.csv'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown column "ammount" (did you mean "amount"?)');
  });

  it('refuses to start without the API key', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'r.csv'), 'conversion_id\ncom_1\n');
    const result = await run(['refund', '--provider', 'affonso', '--file', 'r.csv'], { cwd: dir, env: { AFFONSO_API_KEY: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('AFFONSO_API_KEY is not set; nothing was sent.');
  });

  it('reports failures by class, writes a failures report, and exits 1', async () => {
    seedAffonso(1);
    const { dir, file } = refundsFile(csv([{ conversion_id: 'com_1' }, { conversion_id: 'com_unknown' }]));
    const result = await run(['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso, '--report', join(dir, 'failed.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/refunded: +1\n/);
    expect(result.stdout).toMatch(/failed: +1\n +NotFoundError: 1\n/);
    // A NotFoundError is not retryable: the summary does not say to send it again.
    expect(result.stdout).toContain('1 failed row cannot be fixed by sending again');
    expect(result.stdout).not.toContain('can be sent again safely');
    const report = JSON.parse(readFileSync(join(dir, 'failed.json'), 'utf8'));
    expect(report).toEqual([
      expect.objectContaining({ row: 2, conversionId: 'com_unknown', error: expect.objectContaining({ class: 'NotFoundError', code: 'NOT_FOUND' }) }),
    ]);
    // The CSV report, by default, for the same failure.
    writeFileSync(`${file}.journal.jsonl`, '');
    const again = await run(['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso, '--journal', join(dir, 'j2')]);
    expect(again.code).toBe(1);
    const reportCsv = readFileSync(`${file}.failures.csv`, 'utf8').split('\n');
    expect(reportCsv[0]).toBe('row,conversion_id,error_class,code,message,retryable,ambiguous,idempotency_key');
    expect(reportCsv[1]).toMatch(/^2,com_unknown,NotFoundError,NOT_FOUND,/);
  });

  it('a second run of the same file: refused without --resume; with it, done rows are skipped', async () => {
    seedAffonso(2);
    const { file } = refundsFile(csv([{ conversion_id: 'com_1' }, { conversion_id: 'com_2' }]));
    const args = ['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso];
    expect((await run(args)).code).toBe(0);
    const refused = await run(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('exists: a run of this file was started before. Add --resume');
    const resumed = await run([...args, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming: 2 rows already done');
    expect(emulator.ledger.refunds()).toHaveLength(2);
  });

  it('the same file run again from scratch (journal deleted) refunds nothing twice: the keys come from the rows', async () => {
    seedAffonso(3);
    const { dir, file } = refundsFile(csv([1, 2, 3].map((n) => ({ conversion_id: `com_${n}`, amount: '1000', currency: 'USD', refund_id: `re_${n}` }))));
    const args = ['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--base-url', server.baseURLs.affonso];
    expect((await run(args)).code).toBe(0);
    const again = await run([...args, '--journal', join(dir, 'fresh.jsonl')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already refunded \(duplicate\): +3\n/);
    for (const id of ['com_1', 'com_2', 'com_3']) {
      expect(refundedOnce('affonso', id)).toBe(1);
      expect(emulator.ledger.conversion('affonso', id)).toMatchObject({ refunded: 1_000 });
    }
  });

  it('refuses to resume against a file that changed since', async () => {
    seedAffonso(2);
    const { file } = refundsFile(csv([{ conversion_id: 'com_1' }]));
    const args = ['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso];
    expect((await run(args)).code).toBe(0);
    writeFileSync(file, csv([{ conversion_id: 'com_1' }, { conversion_id: 'com_2' }]));
    const resumed = await run([...args, '--resume']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('the file changed since that run. Either put the file back as it was and --resume, or run the edited file as a new run with its own journal (--journal <new path>, without --resume)');
  });

  it('says a problem every row has once, with the rows, not once per row', async () => {
    const { file } = refundsFile(csv(Array.from({ length: 6 }, (_, n) => ({ conversion_id: `com_${n + 1}`, amount: '100', currency: 'USD', refund_id: `re_${n + 1}` }))));
    const result = await run(['refund', '--provider', 'affonso', '--file', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').filter((line) => line.includes('--amount-unit'))).toEqual([
      'rows 1–6: amount: say how amounts are written with --amount-unit minor (4950 = 49.50) or --amount-unit major (49.50)',
    ]);
  });

  it('a FirstPromoter row without a lead names the email and uid columns', async () => {
    const { file } = refundsFile(csv([{ conversion_id: 'sale_1', amount: '100', currency: 'USD', email: '', uid: '', refund_id: 're_1' }]));
    const result = await run(['refund', '--provider', 'firstpromoter', '--file', file, '--amount-unit', 'minor', '--dry-run']);
    expect(result.stdout).toContain("row 1: INVALID: email, uid: FirstPromoter needs the lead whose commission is reversed: fill the row's email or uid column");
    expect(result.stdout).not.toContain('customer.');
  });

  it('a clean --resume removes the earlier failures report, and says so', async () => {
    seedAffonso(2);
    const { file } = refundsFile(csv([{ conversion_id: 'com_1' }, { conversion_id: 'com_2' }]));
    const args = ['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso, '--max-retries', '0'].filter((arg) => arg !== '--max-retries' && arg !== '0');
    emulator.inject({ provider: 'affonso', conversionId: 'com_2', status: 400, body: { success: false, error: { code: 'VALIDATION_ERROR', message: 'try later' } } });
    const first = await run(args);
    expect(first.code).toBe(1);
    expect(existsSync(`${file}.failures.csv`)).toBe(true);
    const resumed = await run([...args, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`removed the earlier failures report ${file}.failures.csv: every row is done now`);
    expect(existsSync(`${file}.failures.csv`)).toBe(false);
  });

  it('lines the summary up, and the emulator\'s help says its default port once', async () => {
    seedAffonso(1);
    const { file } = refundsFile(csv([{ conversion_id: 'com_1' }]));
    const result = await run(['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso]);
    const values = result.stdout.split('\n').filter((line) => /^ {2}[a-z(]/.test(line) && line.includes(':')).map((line) => line.search(/\S+$/));
    expect(new Set(values).size).toBe(1);
    const help = await run(['emulator', '--help']);
    expect(help.stdout).toMatch(/--port <port> +port \(default: any free one\)\n/);
  });

  it('refuses to resume with another --amount-unit, which would read the amounts differently', async () => {
    seedAffonso(1);
    const { file } = refundsFile(csv([{ conversion_id: 'com_1', amount: '40', currency: 'USD', refund_id: 're_1' }]));
    const args = ['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso];
    expect((await run([...args, '--amount-unit', 'major'])).code).toBe(0);
    const resumed = await run([...args, '--amount-unit', 'minor', '--resume']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('was written by a run with --amount-unit major; resume with the same --amount-unit');
    expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 4_000 });
  });

  describe('refund ids: two equal partial refunds of one order are two refunds', () => {
    it('a row with an amount but neither refund_id nor idempotency_key: the run refuses to start, naming the column', async () => {
      seedAffonso(1);
      const { file } = refundsFile(csv([{ conversion_id: 'com_1', amount: '1000', currency: 'USD' }]));
      const result = await run(['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--base-url', server.baseURLs.affonso]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/row 1: refund_id: is required for a row with an amount and no idempotency_key/);
      expect(result.stderr).toContain('--allow-amount-keys');
      expect(emulator.ledger.refunds()).toHaveLength(0);
      expect(existsSync(`${file}.journal.jsonl`)).toBe(false);
    });

    it('--allow-amount-keys opts back into keys derived from the amount', async () => {
      seedAffonso(1);
      const { file } = refundsFile(csv([{ conversion_id: 'com_1', amount: '1000', currency: 'USD' }]));
      const result = await run(['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--allow-amount-keys', '--base-url', server.baseURLs.affonso]);
      expect(result.code).toBe(0);
      expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 1_000 });
    });

    it('two runs, each a $10 refund of the same order with its own refund_id: both applied; running the second again replays it', async () => {
      seedAffonso(1);
      const args = (file: string) => ['refund', '--provider', 'affonso', '--file', file, '--amount-unit', 'minor', '--base-url', server.baseURLs.affonso];
      const monday = refundsFile(csv([{ conversion_id: 'com_1', amount: '1000', currency: 'USD', refund_id: 're_monday' }]));
      const friday = refundsFile(csv([{ conversion_id: 'com_1', amount: '1000', currency: 'USD', refund_id: 're_friday' }]));
      expect((await run(args(monday.file))).code).toBe(0);
      expect((await run(args(friday.file))).stdout).toMatch(/refunded: +1\n/);
      expect(emulator.ledger.refunds({ provider: 'affonso', conversionId: 'com_1' }).map((refund) => refund.amount)).toEqual([1_000, 1_000]);
      const again = await run([...args(friday.file), '--journal', join(friday.dir, 'again.jsonl')]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/already refunded \(duplicate\): +1\n/);
      expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 2_000 });
    });

    it('a journal written before refund ids (keys from amounts) is refused on --resume, saying why and what to do', async () => {
      seedAffonso(2);
      const { file } = refundsFile(csv([{ conversion_id: 'com_1' }, { conversion_id: 'com_2' }]));
      const args = ['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso];
      expect((await run(args)).code).toBe(0);
      // The header an earlier clawback wrote: version 1, no key derivation named.
      const journal = readFileSync(`${file}.journal.jsonl`, 'utf8').split('\n');
      const { keys: _keys, ...header } = JSON.parse(journal[0] ?? '{}');
      writeFileSync(`${file}.journal.jsonl`, [JSON.stringify({ ...header, version: 1 }), ...journal.slice(1)].join('\n'));
      const resumed = await run([...args, '--resume']);
      expect(resumed.code).toBe(2);
      expect(resumed.stderr).toContain('was written by an earlier clawback, which derived the keys of rows without idempotency_key from their amounts');
      expect(resumed.stderr).toContain('Finish that run with the clawback version that started it');
      expect(emulator.ledger.refunds()).toHaveLength(2);
    });
  });

  it('says a retryable failure can be sent again (and only then)', async () => {
    seedAffonso(1);
    emulator.inject({ provider: 'affonso', status: 503, body: { success: false, error: { code: 'UNAVAILABLE' } }, headers: { 'retry-after': '0' }, times: 3 });
    const { file } = refundsFile(csv([{ conversion_id: 'com_1' }]));
    const result = await run(['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 of the 1 failed rows can be sent again safely (their error is retryable): run the same command with --resume.');
    expect(result.stdout).not.toContain('cannot be fixed by sending again');
  });

  describe('killed mid-run, then resumed', () => {
    const rows = 240;
    async function interruptAndResume(kill: NodeJS.Signals) {
      const ids = seedAffonso(rows);
      // Every answer takes a while, so the run is still going when it is killed.
      emulator.inject({ provider: 'affonso', delay: 15, times: rows * 2 });
      const { file } = refundsFile(csv(ids.map((id, index) => ({ conversion_id: id, amount: String(100 + index), currency: 'USD', refund_id: `re_${index}` }))));
      const args = ['refund', '--provider', 'affonso', '--plan', '3000', '--concurrency', '8', '--file', file, '--amount-unit', 'minor', '--base-url', server.baseURLs.affonso];

      const first = cli(args);
      await new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => {
          if ((first.output().match(/^row \d+ /gm) ?? []).length >= 60) {
            clearInterval(poll);
            first.child.kill(kill);
            resolve();
          }
        }, 5);
        first.done.then(() => reject(new Error('the run ended before it could be interrupted')), reject);
      });
      const interrupted = await first.done;
      const appliedBefore = emulator.ledger.refunds({ provider: 'affonso' }).length;
      expect(appliedBefore).toBeGreaterThanOrEqual(60);
      expect(appliedBefore).toBeLessThan(rows);

      const resumed = await run([...args, '--resume']);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/resuming: \d+ rows already done/);
      for (const [index, id] of ids.entries()) {
        expect(refundedOnce('affonso', id), id).toBe(1);
        expect(emulator.ledger.conversion('affonso', id)?.refunded, id).toBe(100 + index);
      }
      // Rows in flight when it was killed were applied by the vendor but never journaled: the
      // resume sent them again with the same keys, and the vendor replayed them. This is the case
      // the derived keys exist for; the run above must have hit it.
      expect(Number(/already refunded \(duplicate\): +(\d+)/.exec(resumed.stdout)?.[1])).toBeGreaterThan(0);
      return { interrupted, resumed };
    }

    it('SIGKILL (a crash): every row is refunded exactly once', async () => {
      const { interrupted } = await interruptAndResume('SIGKILL');
      expect(interrupted.signal).toBe('SIGKILL');
    });

    it('Ctrl-C (SIGINT): stops, says how to resume, exits 130; resuming refunds every row exactly once', async () => {
      const { interrupted, resumed } = await interruptAndResume('SIGINT');
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toContain('interrupted: stopping');
      expect(interrupted.stdout).toContain('Run the same command with --resume to finish');
      // Rows aborted in flight were recorded as failed, possibly applied: the resume replays them.
      expect(resumed.stdout).toMatch(/refunded: +\d+\n/);
    });
  });

  it('prints plain progress lines when not on a terminal, and a bar with rate and ETA on one', async () => {
    seedAffonso(2);
    const { dir, file } = refundsFile(csv([{ conversion_id: 'com_1' }]));
    const plain = await run(['refund', '--provider', 'affonso', '--file', file, '--base-url', server.baseURLs.affonso]);
    expect(plain.stdout).toMatch(/^row 1 com_1: refunded$/m);
    expect(plain.stdout).toMatch(/^progress: 1\/1 rows, [\d.]+\/s, ETA 0 s, 0 failed$/m);

    // `script` gives the CLI a pseudo-terminal.
    writeFileSync(join(dir, 'tty.csv'), csv([{ conversion_id: 'com_2' }]));
    const env = Object.entries({ ...keys }).map(([name, value]) => `${name}=${value}`).join(' ');
    const command = `env ${env} ${process.execPath} ${CLI} refund --provider affonso --file tty.csv --base-url ${server.baseURLs.affonso}`;
    const tty = await new Promise<Run>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr: '' }));
    });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/refunding .* 1\/1 \| [\d.]+\/s \| ETA \S+ \| failed 0/);
    expect(tty.stdout).not.toMatch(/^progress:/m);
  });

  it('holds a 5,000-row file under the vendor rate limit: no 429, every row refunded once', { timeout: 240_000 }, async () => {
    const count = 5_000;
    const limited = createEmulator({ rateLimits: { affonso: plan3000 } });
    const limitedServer = await startEmulator({ emulator: limited });
    const statuses = new Map<number, number>();
    const handle = limited.handle.bind(limited);
    limited.handle = async (provider, request) => {
      const outcome = await handle(provider, request);
      const status = 'status' in outcome ? outcome.status : 0;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      return outcome;
    };
    try {
      const ids = Array.from({ length: count }, (_, index) => `com_${index + 1}`);
      limited.seed({ affonso: ids.map((id) => ({ id, sale: usd(2_000) })) });
      const { file } = refundsFile(csv(ids.map((id) => ({ conversion_id: id, amount: '500', currency: 'USD', refund_id: `re_${id}` }))), 'big.csv');
      const started = performance.now();
      const result = await run([
        'refund',
        '--provider',
        'affonso',
        '--plan',
        '3000',
        '--concurrency',
        '16',
        '--file',
        file,
        '--amount-unit',
        'minor',
        '--base-url',
        limitedServer.baseURLs.affonso,
      ]);
      const seconds = (performance.now() - started) / 1000;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`refunded: +${count}\\n`));
      expect(statuses.get(429) ?? 0).toBe(0);
      expect(statuses.get(200)).toBe(count);
      expect(limited.ledger.refunds({ provider: 'affonso' })).toHaveLength(count);
      // 3,000 per minute: the second 2,000 cannot all go in the first minute.
      expect(seconds).toBeGreaterThan(60);
      console.log(`5,000 rows on Affonso plan 3000: ${seconds.toFixed(1)} s, ${(count / seconds).toFixed(1)} refunds/s, 0 × 429`);
    } finally {
      await limitedServer.close();
    }
  });
});

describe('clawback emulator', () => {
  it('serves the vendors from the command line, seeded from a file', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'seed.json'), JSON.stringify({ affixo: [{ id: 'order_1', sale: usd(4_000) }] }));
    const emulatorProcess = cli(['emulator', '--seed', 'seed.json'], { cwd: dir });
    const affixoURL = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /affixo +(http:\/\/\S+)/.exec(emulatorProcess.output());
        if (match?.[1]) {
          clearInterval(poll);
          resolve(match[1]);
        }
      }, 10);
      emulatorProcess.done.then((result) => reject(new Error(`emulator exited: ${result.stderr}`)), reject);
    });
    // It says which keys it accepts, as lines to paste into a shell.
    for (const [name, key] of Object.entries(EMULATOR_API_KEYS)) expect(emulatorProcess.output()).toContain(`export ${name.toUpperCase()}_API_KEY=${key}`);
    expect(emulatorProcess.output()).toContain(`export FIRSTPROMOTER_ACCOUNT_ID=${EMULATOR_FIRSTPROMOTER_ACCOUNT_ID}`);
    writeFileSync(join(dir, 'r.csv'), 'conversion_id\norder_1\n');
    const result = await run(['refund', '--provider', 'affixo', '--file', 'r.csv', '--base-url', affixoURL], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/refunded: +1\n/);
    emulatorProcess.child.kill('SIGINT');
    const stopped = await emulatorProcess.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('emulator stopped: 1 refunds applied');
  });
});
