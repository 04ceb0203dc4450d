import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { ClawbackError, ConnectionError } from '../core/errors.js';
import { readEnv } from '../core/credentials.js';
import { createAffixo } from '../providers/affixo/affixo-provider.js';
import { createAffonso, type AffonsoPlan } from '../providers/affonso/affonso-provider.js';
import { createFirstPromoter } from '../providers/firstpromoter/firstpromoter-provider.js';
import { createRefCampaign } from '../providers/refcampaign/refcampaign-provider.js';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID } from '../testing/emulator.js';
import { KEY_DERIVATION, deriveIdempotencyKey, refundMany, type RefundManyItem, type RefundManyOutcome } from '../refund-many.js';
import type { RefundProvider } from '../refund.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';
import { startEmulator } from '../testing/server.js';
import type { ConversionSeeds } from '../testing/emulator.js';
import { VERSION } from '../version.js';
import { Journal, type JournalEntry } from './journal.js';
import { openLedger, registerLedgerCommands, type LedgerOptions, type OpenLedger } from './ledger.js';
import { memoryLedger } from '../core/memory-ledger.js';
import { FileError, parseCsv, parseJsonLines, toRequest, type AmountUnit, type RowRequest } from './rows.js';

/** Exit codes: 0 every row refunded (or already), 1 some rows failed, 2 nothing sent (bad usage or file), 130 interrupted. */
const EXIT = { ok: 0, failures: 1, refused: 2, interrupted: 130 } as const;

const providerNames = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'] as const satisfies readonly ProviderName[];

interface RefundCommandOptions extends Partial<LedgerOptions> {
  provider: ProviderName;
  file: string;
  format?: 'csv' | 'jsonl';
  amountUnit?: AmountUnit;
  dryRun?: boolean;
  resume?: boolean;
  /** A path, or false for `--no-journal` (with a ledger, which then is what a run again relies on). */
  journal?: string | false;
  report?: string;
  concurrency: number;
  baseUrl?: string;
  plan?: AffonsoPlan;
  allowAmountKeys?: boolean;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function positiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 64) throw new InvalidArgumentError('must be a whole number from 1 to 64');
  return number;
}

function affonsoPlan(value: string): AffonsoPlan {
  const plan = Number(value);
  if (plan !== 300 && plan !== 600 && plan !== 1200 && plan !== 3000) throw new InvalidArgumentError('must be 300, 600, 1200 or 3000');
  return plan;
}

/** The environment variables a provider's factory reads its credentials from. */
function credentialVariables(provider: ProviderName): { apiKey: string; accountId?: string } {
  const apiKey = `${provider.toUpperCase()}_API_KEY`;
  return provider === 'firstpromoter' ? { apiKey, accountId: 'FIRSTPROMOTER_ACCOUNT_ID' } : { apiKey };
}

/** The provider the run sends through; API keys (and FirstPromoter's account id) from the usual environment variables. */
function createProvider(options: RefundCommandOptions, overrides: Record<string, unknown> = {}): RefundProvider {
  const settings = { ...(options.baseUrl ? { baseURL: options.baseUrl } : {}), ...overrides };
  switch (options.provider) {
    case 'affixo':
      return createAffixo(settings);
    case 'affonso':
      return createAffonso({ ...settings, ...(options.plan ? { plan: options.plan } : {}) });
    case 'refcampaign':
      return createRefCampaign(settings);
    case 'firstpromoter':
      return createFirstPromoter(settings);
  }
}

function readRequests(options: RefundCommandOptions): { requests: RowRequest[]; fileHash: string } {
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new FileError(`cannot read ${options.file}: ${(error as Error).message}`);
  }
  const format = options.format ?? (['.jsonl', '.ndjson'].includes(extname(options.file).toLowerCase()) ? 'jsonl' : 'csv');
  const rows = format === 'jsonl' ? parseJsonLines(text, options.file) : parseCsv(text, options.file);
  if (rows.length === 0) throw new FileError(`${options.file} has no rows`);
  return {
    requests: rows.map((row) => toRequest(row, options.amountUnit)),
    fileHash: createHash('sha256').update(text).digest('hex'),
  };
}

const itemFor = (provider: RefundProvider, request: Extract<RowRequest, { ok: true }>): RefundManyItem =>
  ({ provider, ...request.options }) as RefundManyItem;

/** An SDK issue in the file's terms: its columns and the command's flags. */
function inFileTerms(issue: { path: string; message: string }): string {
  // The lead is the row's email or uid column.
  if (issue.path === 'customer' || issue.path.startsWith('customer.')) {
    return issue.message.startsWith('is required')
      ? 'email, uid: FirstPromoter needs the lead whose commission is reversed: fill the row\'s email or uid column'
      : `${issue.path.replace(/^customer\.?/, '') || 'email, uid'}: ${issue.message.replace(/customer\.(email|uid)/g, '$1').replace(/email or uid/, 'the email or uid column')}`;
  }
  if (issue.path !== 'refundId') return `${issue.path}: ${issue.message}`;
  return "refund_id: is required for a row with an amount and no idempotency_key: a key derived from the amount would be the same for two equal partial refunds of one conversion, and the vendor would take the second for a replay and not refund it. Add the payment processor's id of each refund (Stripe re_…, a Shopify refund id) in a refund_id column, or an idempotency_key, or run with --allow-amount-keys to accept that risk";
}

/**
 * Every row through the SDK's own path, with a fetch that records the request instead of
 * sending it: the same validation, the same mapping, the exact body that would go out.
 * Returns, per row, the problems or the request it would send.
 */
async function rehearse(options: RefundCommandOptions, requests: RowRequest[]) {
  const captured = new Map<number, { url: string; body: string }>();
  let current = -1;
  const capture = async (input: Request | URL | string, init?: RequestInit): Promise<Response> => {
    captured.set(current, { url: String(input), body: String(init?.body ?? '') });
    throw new Error('dry run: not sent');
  };
  // Placeholders where the environment has no credentials yet: a dry run needs none.
  const { apiKey, accountId } = credentialVariables(options.provider);
  const placeholders = {
    apiKey: readEnv(apiKey)?.trim() ?? 'dry_run_placeholder_key',
    ...(accountId ? { accountId: readEnv(accountId)?.trim() ?? 'dry_run_account' } : {}),
  };
  // With --ledger, rows are checked under a ledger's rules (RefCampaign partial refunds allowed),
  // in memory: a dry run claims nothing.
  const provider = createProvider(options, { ...placeholders, fetch: capture, rateLimit: false, maxRetries: 0, ...(options.ledger ? { ledger: memoryLedger() } : {}) });
  const valid = requests.filter((request): request is Extract<RowRequest, { ok: true }> => request.ok);
  // One at a time, so each captured request is matched to its row.
  const outcomes = new Map<number, RefundManyOutcome>();
  for (const request of valid) {
    current = request.row;
    const [outcome] = await refundMany([itemFor(provider, request)], { concurrency: 1, allowAmountKeys: Boolean(options.allowAmountKeys) });
    outcomes.set(request.row, outcome as RefundManyOutcome);
  }
  // Rows that would share a key, named by row number (refundMany would refuse them too, by index).
  const keys = new Map<string, number>();
  const result = new Map<number, { problems: string[] } | { key: string | undefined; sent: { url: string; body: string } }>();
  for (const request of requests) {
    if (!request.ok) {
      result.set(request.row, { problems: request.problems });
      continue;
    }
    const outcome = outcomes.get(request.row) as RefundManyOutcome;
    const sent = captured.get(request.row);
    if (outcome.ok || !sent || !ConnectionError.isInstance(outcome.error)) {
      const error = outcome.ok ? undefined : outcome.error;
      const problems = error && 'issues' in error ? (error.issues as Array<{ path: string; message: string }>).map(inFileTerms) : [error?.message ?? 'not sent'];
      result.set(request.row, { problems });
      continue;
    }
    const key = request.options.idempotencyKey ?? (await deriveIdempotencyKey({ provider, ...request.options }, { allowAmountKeys: Boolean(options.allowAmountKeys) }));
    const first = keys.get(key);
    if (first !== undefined) {
      result.set(request.row, {
        problems: [
          `idempotency_key: row ${first} would be sent with the same key${request.options.idempotencyKey ? '' : request.options.refundId ? ' (derived from the same conversion and refund_id)' : ' (derived from the same conversion and amount)'}, so the vendor would take this one for a replay and not refund it. Give each row its own refund_id if both refunds are meant`,
        ],
      });
      continue;
    }
    keys.set(key, request.row);
    result.set(request.row, { key, sent });
  }
  return result;
}

/** "3", "1, 4, 9", "1–120": the rows a problem is on, short. */
function describeRows(rows: readonly number[]): string {
  const ranges: string[] = [];
  for (let index = 0; index < rows.length; index++) {
    const start = rows[index] as number;
    while (index + 1 < rows.length && rows[index + 1] === (rows[index] as number) + 1) index += 1;
    ranges.push(rows[index] === start ? String(start) : `${start}–${rows[index]}`);
  }
  return ranges.join(', ');
}

function describeError(error: ClawbackError): NonNullable<JournalEntry['error']> {
  return { class: error.name, code: error.code, message: error.message, retryable: error.retryable, ambiguous: error.ambiguous };
}

function csvCell(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function writeReport(path: string, failures: Array<{ row: number; conversionId: string; idempotencyKey: string | undefined; error: NonNullable<JournalEntry['error']> }>) {
  if (extname(path).toLowerCase() === '.json') {
    writeFileSync(path, `${JSON.stringify(failures, null, 2)}\n`);
    return;
  }
  const header = ['row', 'conversion_id', 'error_class', 'code', 'message', 'retryable', 'ambiguous', 'idempotency_key'];
  const lines = failures.map((failure) =>
    [failure.row, failure.conversionId, failure.error.class, failure.error.code, failure.error.message, failure.error.retryable, failure.error.ambiguous, failure.idempotencyKey]
      .map(csvCell)
      .join(','),
  );
  writeFileSync(path, `${[header.join(','), ...lines].join('\n')}\n`);
}

/** A progress bar with rate and ETA on a terminal; plain lines (one per row, and a status every 10 s) otherwise. */
function progressReporter(total: number, skipped: number) {
  const started = performance.now();
  const rate = (done: number) => done / Math.max((performance.now() - started) / 1000, 0.001);
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'refunding {bar} {value}/{total} | {rate}/s | ETA {eta_formatted} | failed {failed}',
        stream: process.stderr,
        etaBuffer: 50,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '0.0', failed: 0 });
    return {
      row: (done: number, failed: number) => bar.update(done, { rate: rate(done).toFixed(1), failed }),
      stop: () => bar.stop(),
    };
  }
  let last = started;
  return {
    row: (done: number, failed: number, line?: string) => {
      if (line) out(line);
      const now = performance.now();
      if (now - last >= 10_000 || done === total) {
        last = now;
        const perSecond = rate(done);
        const eta = perSecond > 0 ? Math.ceil((total - done) / perSecond) : 0;
        out(`progress: ${done + skipped}/${total + skipped} rows, ${perSecond.toFixed(1)}/s, ETA ${eta} s, ${failed} failed`);
      }
    },
    stop: () => {},
  };
}

async function refundCommand(options: RefundCommandOptions): Promise<number> {
  if (options.journal === false && !options.ledger) {
    throw new FileError('--no-journal needs --ledger: without a journal or a ledger, running the file again could not tell which rows were done');
  }
  if (options.journal === false && options.resume) throw new FileError('--resume reads the journal, which --no-journal turns off: run again without --resume (the ledger replays rows already done)');
  const { requests, fileHash } = readRequests(options);
  const rehearsal = await rehearse(options, requests);
  const invalid = [...rehearsal.entries()].filter(([, entry]) => 'problems' in entry) as Array<[number, { problems: string[] }]>;

  if (options.dryRun) {
    for (const [row, entry] of rehearsal) {
      if ('problems' in entry) out(`row ${row}: INVALID: ${entry.problems.join('; ')}`);
      else out(`row ${row}: POST ${entry.sent.url} ${entry.sent.body}`);
    }
    const rows = (count: number) => `${count} row${count === 1 ? '' : 's'}`;
    out(`dry run: ${rows(rehearsal.size - invalid.length)} valid, ${invalid.length} invalid; nothing was sent`);
    return invalid.length === 0 ? EXIT.ok : EXIT.refused;
  }
  if (invalid.length > 0) {
    // A problem every one of many rows has (no --amount-unit, say) is said once, with its rows.
    const byProblem = new Map<string, number[]>();
    for (const [row, { problems }] of invalid) byProblem.set(problems.join('; '), [...(byProblem.get(problems.join('; ')) ?? []), row]);
    for (const [problem, rows] of byProblem) err(`${rows.length === 1 ? 'row' : 'rows'} ${describeRows(rows)}: ${problem}`);
    err(`${invalid.length} of ${requests.length} rows are invalid; nothing was sent. Fix them (check with --dry-run) and run again.`);
    return EXIT.refused;
  }

  const missing = Object.values(credentialVariables(options.provider)).filter((name) => readEnv(name) === undefined);
  if (missing.length > 0) {
    err(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set; nothing was sent.`);
    return EXIT.refused;
  }

  let ledger: OpenLedger | undefined;
  if (options.ledger) {
    ledger = await openLedger(options as LedgerOptions);
    out(`ledger: ${ledger.where}`);
  }
  const journalPath = options.journal === false ? undefined : (options.journal ?? `${options.file}.journal.jsonl`);
  const header = { provider: options.provider, fileHash, rows: requests.length, amountUnit: options.amountUnit ?? null, keys: KEY_DERIVATION };
  let journal: Journal | undefined;
  let done = new Set<number>();
  try {
    if (journalPath && options.resume) ({ journal, done } = Journal.resume(journalPath, header));
    else if (journalPath) journal = Journal.create(journalPath, { type: 'header', version: 2, ...header });
  } catch (error) {
    await ledger?.close();
    throw error;
  }

  const provider = createProvider(options, ledger ? { ledger: ledger.ledger } : {});
  const pending = (requests as Array<Extract<RowRequest, { ok: true }>>).filter((request) => !done.has(request.row));
  if (done.size > 0) out(`resuming: ${done.size} rows already done in ${journalPath}, ${pending.length} to go`);

  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    err('\ninterrupted: stopping; rows in flight are recorded as failed and are safe to resume (same idempotency keys)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const counts = { refunded: 0, duplicates: 0, failedByClass: new Map<string, number>() };
  const failures: Parameters<typeof writeReport>[1] = [];
  const progress = progressReporter(pending.length, done.size);
  try {
    await refundMany(
      pending.map((request) => itemFor(provider, request)),
      {
        concurrency: options.concurrency,
        signal: controller.signal,
        allowAmountKeys: Boolean(options.allowAmountKeys),
        onProgress: ({ done: settled, failed, outcome }) => {
          const request = pending[outcome.index] as Extract<RowRequest, { ok: true }>;
          const base = { type: 'row' as const, row: request.row, conversionId: request.options.conversionId };
          let line: string;
          if (outcome.ok) {
            const { duplicate, status, idempotencyKey } = outcome.result;
            journal?.record({ ...base, idempotencyKey, outcome: duplicate ? 'duplicate' : 'refunded', status });
            if (duplicate) counts.duplicates += 1;
            else counts.refunded += 1;
            line = `row ${request.row} ${request.options.conversionId}: ${duplicate ? 'already refunded (duplicate)' : status}`;
          } else {
            const error = describeError(outcome.error);
            journal?.record({ ...base, idempotencyKey: outcome.error.idempotencyKey, outcome: 'failed', error });
            counts.failedByClass.set(error.class, (counts.failedByClass.get(error.class) ?? 0) + 1);
            failures.push({ row: request.row, conversionId: request.options.conversionId, idempotencyKey: outcome.error.idempotencyKey, error });
            line = `row ${request.row} ${request.options.conversionId}: FAILED ${error.class}: ${error.message}`;
          }
          progress.row(settled, failed, line);
        },
      },
    );
  } finally {
    progress.stop();
    journal?.close();
    await ledger?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const failed = failures.length;
  out('');
  out(`summary (${options.provider}, ${options.file}):`);
  const field = (label: string, value: string | number) => out(`  ${`${label}:`.padEnd(31)} ${value}`);
  field('refunded', counts.refunded);
  field('already refunded (duplicate)', counts.duplicates);
  if (done.size > 0) field('done in an earlier run', done.size);
  field('failed', failed);
  for (const [name, count] of [...counts.failedByClass].sort((a, b) => b[1] - a[1])) out(`    ${name}: ${count}`);
  if (journalPath) field('journal', journalPath);
  if (ledger) field('ledger', ledger.where);
  if (failed > 0) {
    const reportPath = options.report ?? `${options.file}.failures.csv`;
    writeReport(reportPath, failures);
    field('failures report', reportPath);
    const retryable = failures.filter((failure) => failure.error.retryable).length;
    // Without a journal the ledger is what a run again relies on: the same command, as it was.
    const again = journalPath ? 'run the same command with --resume' : 'run the same command again';
    if (interrupted) {
      out(
        journalPath
          ? 'Run the same command with --resume to finish: done rows are skipped, the rest are sent with the same idempotency keys.'
          : 'Run the same command again to finish: done rows replay from the ledger, sending nothing, and the rest are sent with the same idempotency keys.',
      );
    } else {
      if (retryable > 0) {
        out(`${retryable} of the ${failed} failed rows can be sent again safely (their error is retryable): ${again}.`);
      }
      if (retryable < failed) {
        out(
          `${failed - retryable} failed row${failed - retryable === 1 ? '' : 's'} cannot be fixed by sending again: see the report for why (and whether the refund may have been applied), fix it, then ${journalPath ? '--resume' : 'run it again'}.`,
        );
      }
      const held = failures.filter((failure) => failure.error.ambiguous && !failure.error.retryable).length;
      if (ledger && held > 0) {
        out(
          `${held} of them may have been applied, and the vendor cannot recognise a repeat: the ledger holds them until you settle them. Check each at the vendor, then: clawback ledger list --state ambiguous --ledger ${ledger.where}`,
        );
      }
    }
  }
  // A clean finish leaves no earlier failures report behind to be mistaken for this run's.
  const staleReport = options.report ?? `${options.file}.failures.csv`;
  if (failed === 0 && !interrupted && existsSync(staleReport)) {
    rmSync(staleReport);
    out(`  removed the earlier failures report ${staleReport}: every row is done now`);
  }
  if (interrupted) return EXIT.interrupted;
  return failed === 0 ? EXIT.ok : EXIT.failures;
}

async function emulatorCommand(options: { port: number; host: string; seed?: string }): Promise<number> {
  let seed: ConversionSeeds | undefined;
  if (options.seed) {
    try {
      seed = JSON.parse(readFileSync(options.seed, 'utf8')) as ConversionSeeds;
    } catch (error) {
      throw new FileError(`cannot read seeds from ${options.seed}: ${(error as Error).message}`);
    }
  }
  const emulator = await startEmulator({ port: options.port, host: options.host, ...(seed ? { seed } : {}) });
  out(`clawback emulator listening (Ctrl-C to stop); point --base-url at one of:`);
  for (const [name, url] of Object.entries(emulator.baseURLs)) out(`  ${name.padEnd(14)} ${url}`);
  out('with the keys it accepts:');
  for (const [name, key] of Object.entries(EMULATOR_API_KEYS)) out(`  export ${credentialVariables(name as ProviderName).apiKey}=${key}`);
  out(`  export ${credentialVariables('firstpromoter').accountId}=${EMULATOR_FIRSTPROMOTER_ACCOUNT_ID}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const refunds = emulator.ledger.refunds();
  await emulator.close();
  out(`emulator stopped: ${refunds.length} refunds applied`);
  return EXIT.ok;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command()
    .name('clawback')
    .description('Reverse affiliate commissions in bulk, safely: every row refunded once, even across interrupted runs.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('refund')
    .description('Refund every row of a CSV or JSON Lines file through one provider')
    .addOption(new Option('--provider <name>', 'the affiliate platform').choices(providerNames).makeOptionMandatory())
    .requiredOption('--file <path>', 'refunds file: columns conversion_id, amount, currency, email, uid, reason, refund_id, idempotency_key')
    .addOption(new Option('--format <format>', 'file format (default: from the extension, .jsonl/.ndjson or CSV)').choices(['csv', 'jsonl']))
    .addOption(new Option('--amount-unit <unit>', 'how amounts are written: minor (4950 = 49.50) or major (49.50); required when a row has an amount').choices(['minor', 'major']))
    .option('--dry-run', 'validate every row and print what would be sent; send nothing')
    .option('--resume', 'continue an interrupted run: skip the rows its journal records as done')
    .option('--journal <path>', 'journal file (default: <file>.journal.jsonl)')
    .option('--report <path>', 'failures report, .csv or .json (default: <file>.failures.csv)')
    .option('--concurrency <n>', 'refunds in flight at once, 1-64; the vendor rate limit still applies', positiveInt, 4)
    .option('--base-url <url>', "the vendor's API origin, e.g. an emulator's URL")
    .option('--plan <rpm>', "Affonso: your plan's requests per minute, 300, 600, 1200 or 3000 (default 300)", affonsoPlan)
    .option('--allow-amount-keys', 'derive the key of a row with an amount but no refund_id from the amount (two equal partial refunds of one conversion then collapse into one)')
    .option('--ledger <url>', "send through the fleet's refund ledger (redis://… or postgres://…): rows another process sent are not sent again, and RefCampaign partial refunds are allowed")
    .option('--ledger-prefix <prefix>', "with a Redis --ledger: the key prefix your app's redisLedger uses (default clawback:)")
    .option('--ledger-table <table>', "with a PostgreSQL --ledger: the table your app's postgresLedger uses (default clawback_refund_ledger)")
    .option('--no-journal', 'with --ledger: keep no journal file (the ledger replays rows already done when the file is run again)')
    .addHelpText(
      'after',
      `
API keys come from AFFIXO_API_KEY, AFFONSO_API_KEY, REFCAMPAIGN_API_KEY or FIRSTPROMOTER_API_KEY
(and FIRSTPROMOTER_ACCOUNT_ID). A row without idempotency_key gets one derived from its provider,
conversion_id and refund_id (the payment processor's id of the refund; a full refund without one
from its conversion_id), so running the same file again cannot refund twice, and two equal
partial refunds of one order with their own refund_id are two refunds.

Exit codes: 0 all refunded, 1 some rows failed (see the report), 2 nothing sent (invalid
file or usage), 130 interrupted (resume with --resume).`,
    )
    .action(async (options: RefundCommandOptions) => {
      exitCode = await refundCommand(options);
    });

  program
    .command('emulator')
    .description('Serve the four vendors\' refund APIs on loopback, for trying a file end to end')
    .addOption(new Option('--port <port>', 'port').argParser(Number).default(0, 'any free one'))
    .option('--host <host>', 'interface', '127.0.0.1')
    .option('--seed <path>', 'JSON of conversions per vendor: { "affonso": [{ "id": "com_1", "sale": { "value": 4950, "currency": "USD" } }] }')
    .action(async (options: { port: number; host: string; seed?: string }) => {
      exitCode = await emulatorCommand(options);
    });

  registerLedgerCommands(program, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT.ok;
    if (code?.startsWith('commander.')) return EXIT.refused;
    if (error instanceof FileError || ClawbackError.isInstance(error)) {
      err(`clawback: ${(error as Error).message}`);
      return EXIT.refused;
    }
    throw error;
  }
  return exitCode;
}
