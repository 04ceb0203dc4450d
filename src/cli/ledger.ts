import { InvalidArgumentError, type Command } from 'commander';
import { ClawbackError } from '../core/errors.js';
import type { LedgerEntry, LedgerState, RefundLedger } from '../core/ledger.js';
import { toMajorUnits } from '../core/money.js';
import { FileError } from './rows.js';

// The fleet's refund ledger from the command line: `clawback refund --ledger <url>` sends through
// it, `clawback ledger list` shows its entries and `clawback ledger resolve` settles the ones whose
// outcome is not known. The store's client (ioredis or pg) is loaded from the merchant's project.

export interface LedgerOptions {
  ledger: string;
  /** Redis key prefix (default `clawback:`), as the app's `redisLedger(redis, { prefix })`. */
  ledgerPrefix?: string;
  /** PostgreSQL table (default `clawback_refund_ledger`), as the app's `postgresLedger(pool, { table })`. */
  ledgerTable?: string;
}

export interface OpenLedger {
  ledger: RefundLedger;
  /** The URL without its password, for messages. */
  where: string;
  close(): Promise<void>;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** A store's client package, from the project the CLI runs in, or a message saying to install it. */
async function load<T>(name: 'ioredis' | 'pg', url: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new FileError(`--ledger ${url} needs the ${name} package, which is not installed here: npm install ${name}`);
  }
}

/** Opens the ledger at `redis://…` / `rediss://…` or `postgres://…` / `postgresql://…`, connected, or a FileError. */
export async function openLedger(options: LedgerOptions): Promise<OpenLedger> {
  let url: URL;
  try {
    url = new URL(options.ledger);
  } catch {
    throw new FileError(`--ledger must be a URL, redis://host:6379 or postgres://user@host/db (got ${JSON.stringify(options.ledger)})`);
  }
  if (url.password) url.password = '***';
  const where = url.href;
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    const { Redis } = await load<typeof import('ioredis')>('ioredis', where);
    const { redisLedger } = await import('../redis/index.js');
    const redis = new Redis(options.ledger, { maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: () => null });
    try {
      await new Promise<void>((resolve, reject) => {
        redis.once('ready', resolve);
        redis.once('error', reject);
      });
    } catch (error) {
      redis.disconnect();
      throw new FileError(`cannot reach the ledger at ${where}: ${(error as Error).message}`);
    }
    redis.on('error', () => {});
    return { ledger: redisLedger(redis, options.ledgerPrefix ? { prefix: options.ledgerPrefix } : {}), where, close: async () => redis.disconnect() };
  }
  if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
    const pg = await load<typeof import('pg')>('pg', where);
    const { postgresLedger } = await import('../postgres/index.js');
    const pool = new (pg.default ?? pg).Pool({ connectionString: options.ledger, max: 8, connectionTimeoutMillis: 5_000 });
    pool.on('error', () => {});
    const ledger = postgresLedger(pool, options.ledgerTable ? { table: options.ledgerTable } : {});
    try {
      await ledger.list({ limit: 1 }); // connected, and the table exists
    } catch (error) {
      await pool.end().catch(() => {});
      throw new FileError(`cannot reach the ledger at ${where}: ${(error as Error).message}`);
    }
    return { ledger, where, close: () => pool.end() };
  }
  throw new FileError(`--ledger must start with redis://, rediss://, postgres:// or postgresql:// (got ${where})`);
}

function amountOf(entry: LedgerEntry): string {
  if (!entry.amount) return 'full';
  return `${toMajorUnits(entry.amount.value, entry.amount.currency)} ${entry.amount.currency}`;
}

function describeEntry(entry: LedgerEntry): string[] {
  const lines = [
    `${entry.state.padEnd(10)} ${entry.id}`,
    `           conversion ${entry.conversionId}, ${amountOf(entry)}, ${entry.attempts} send${entry.attempts === 1 ? '' : 's'}, last change ${new Date(entry.updatedAt).toISOString()}`,
  ];
  if (entry.state === 'in_flight' && entry.leaseUntil) lines.push(`           being sent; its lease ends ${new Date(entry.leaseUntil).toISOString()}`);
  if (entry.error) lines.push(`           ${entry.error}`);
  return lines;
}

const states: readonly LedgerState[] = ['in_flight', 'applied', 'ambiguous'];

async function withLedger(options: LedgerOptions, work: (open: OpenLedger) => Promise<number>): Promise<number> {
  const open = await openLedger(options);
  try {
    return await work(open);
  } finally {
    await open.close();
  }
}

/** `clawback ledger list` and `clawback ledger resolve`. `done(code)` sets the exit code. */
export function registerLedgerCommands(program: Command, done: (code: number) => void): void {
  const ledger = program.command('ledger').description("Show and settle the entries of a fleet's refund ledger (Redis or PostgreSQL)");
  const common = (command: Command) =>
    command
      .requiredOption('--ledger <url>', 'the ledger: redis://host:6379 or postgres://user@host/db')
      .option('--ledger-prefix <prefix>', "Redis: the key prefix your app's redisLedger uses (default clawback:)")
      .option('--ledger-table <table>', "PostgreSQL: the table your app's postgresLedger uses (default clawback_refund_ledger)");

  common(ledger.command('list').description('List entries, newest change first'))
    .option('--state <state>', `only entries in this state: ${states.join(', ')}`, (value: string) => {
      if (!states.includes(value as LedgerState)) throw new InvalidArgumentError(`must be one of ${states.join(', ')}`);
      return value;
    })
    .option('--limit <n>', 'at most this many (default 100)', (value: string) => Number(value), 100)
    .option('--json', 'print the entries as JSON')
    .action(async (options: LedgerOptions & { state?: LedgerState; limit: number; json?: boolean }) => {
      done(
        await withLedger(options, async ({ ledger: store, where }) => {
          const entries = await store.list({ ...(options.state ? { state: options.state } : {}), limit: options.limit });
          if (options.json) {
            out(JSON.stringify(entries, null, 2));
            return 0;
          }
          for (const entry of entries) for (const line of describeEntry(entry)) out(line);
          out(`${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}${options.state ? ` ${options.state}` : ''} in ${where}`);
          if (options.state === 'ambiguous' && entries.length > 0) {
            out('Check each at the vendor, then: clawback ledger resolve <id> --applied (it was refunded) or --not-applied (the next call sends it).');
          }
          return 0;
        }),
      );
    });

  common(ledger.command('resolve').argument('<id>', 'the entry, as `clawback ledger list` prints it').description('Settle an entry whose outcome is not known'))
    .option('--applied', 'the vendor did apply it: later calls with its key resolve to it, sending nothing')
    .option('--not-applied', 'the vendor did not apply it: the entry is removed, and the next call with its key sends it')
    .action(async (id: string, options: LedgerOptions & { applied?: boolean; notApplied?: boolean }) => {
      if (Boolean(options.applied) === Boolean(options.notApplied)) {
        throw new FileError('give exactly one of --applied or --not-applied');
      }
      done(
        await withLedger(options, async ({ ledger: store }) => {
          try {
            const entry = await store.resolve(id, options.applied ? 'applied' : 'not_applied');
            out(entry ? `settled: ${id} is applied; later calls with its key resolve to it, sending nothing` : `settled: ${id} removed as not applied; the next call with its key sends it`);
            return 0;
          } catch (error) {
            if (!ClawbackError.isInstance(error)) throw error;
            throw new FileError((error as Error).message);
          }
        }),
      );
    });
}
