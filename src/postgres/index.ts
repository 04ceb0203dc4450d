/**
 * `clawback/postgres`: the refund ledger a fleet shares, on PostgreSQL, through a `pg.Pool`:
 * `createAffonso({ ledger: postgresLedger(pool) })`. A committed row survives a crash, which a
 * Redis key without AOF does not, so this is the stronger home for a ledger (see docs/fleet.md).
 *
 * The table is created on first use (serialised by an advisory lock, since concurrent
 * `CREATE TABLE IF NOT EXISTS` can fail); `postgresLedgerSql()` gives its SQL to teams that run
 * migrations themselves (then pass `createTable: false`).
 */
import {
  DEFAULT_RETENTION_MS,
  DIED_WHILE_SENDING,
  decideClaim,
  decideResolve,
  defineLedger,
  ledgerId,
  refusedSettlement,
  type Claim,
  type LedgerEntry,
  type LedgerKey,
  type LedgerStore,
  type RefundLedger,
} from '../core/ledger.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

/** The part of a `pg.Pool` clawback uses (pg 8, or anything alike). */
export interface PostgresPoolLike {
  /** Runs one statement (pg\'s `query` with a config object). */
  query(config: { text: string; values?: unknown[]; query_timeout?: number }): Promise<{ rows: any[]; rowCount: number | null }>;
  /** Checks out one client, for a transaction. */
  connect(): Promise<PostgresClientLike>;
}

/** A client checked out of the pool (pg's `PoolClient`), for the statements of one transaction. */
export interface PostgresClientLike {
  /** Runs one statement (pg\'s `query` with a config object). */
  query(config: { text: string; values?: unknown[]; query_timeout?: number }): Promise<{ rows: any[]; rowCount: number | null }>;
  /** Returns the client to the pool (destroying it when given an error). */
  release(error?: Error | boolean): void;
}

/** `postgresLedger(pool, options)`'s options: the `table`, `retentionMs`, and `createTable: false` when your migrations create it. */
export interface PostgresLedgerOptions {
  /** Default 30 days: longer than Stripe's three days of redeliveries and Affonso's 48 hours. */
  retentionMs?: number;
  /** The table, optionally schema-qualified (default `clawback_refund_ledger`). */
  table?: string;
  /** Create the table on first use (default true); false when your migrations do (`postgresLedgerSql`). */
  createTable?: boolean;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/**
 * The SQL of the ledger's table and indexes, for a migration. Times are epoch milliseconds
 * (bigint), as the ledger's rules compute them on PostgreSQL's own clock.
 */
export function postgresLedgerSql(table = 'clawback_refund_ledger'): string {
  if (!IDENTIFIER.test(table)) throw new TypeError(`table must be a lower-case SQL identifier, optionally schema-qualified ("clawback_refund_ledger"), got ${JSON.stringify(table)}`);
  const name = table.replace('.', '_');
  return `CREATE TABLE IF NOT EXISTS ${table} (
  id text PRIMARY KEY,
  provider text NOT NULL,
  account text NOT NULL,
  idempotency_key text NOT NULL,
  state text NOT NULL CHECK (state IN ('in_flight', 'applied', 'ambiguous')),
  conversion_id text NOT NULL,
  amount jsonb,
  result jsonb,
  error text,
  holder text,
  lease_until bigint,
  attempts integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS ${name}_by_state ON ${table} (state, updated_at DESC);
CREATE INDEX IF NOT EXISTS ${name}_by_expiry ON ${table} (expires_at);
`;
}

/** The default table's SQL. */
export const POSTGRES_LEDGER_SQL: string = postgresLedgerSql();

/** PostgreSQL's clock, in epoch milliseconds: every decision is timed by the store, whichever process asks. */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

const COLUMNS = 'id, provider, account, idempotency_key, state, conversion_id, amount, result, error, holder, lease_until, attempts, created_at, updated_at, expires_at';

function entryFrom(row: Record<string, unknown> | null | undefined): LedgerEntry | undefined {
  if (!row) return undefined;
  const number = (value: unknown) => (value === null || value === undefined ? undefined : Number(value));
  return {
    id: row.id as string,
    provider: row.provider as ProviderName,
    account: row.account as string,
    idempotencyKey: row.idempotency_key as string,
    state: row.state as LedgerEntry['state'],
    conversionId: row.conversion_id as string,
    amount: (row.amount ?? undefined) as LedgerEntry['amount'],
    result: (row.result ?? undefined) as LedgerEntry['result'],
    error: (row.error ?? undefined) as string | undefined,
    holder: (row.holder ?? undefined) as string | undefined,
    leaseUntil: number(row.lease_until),
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: Number(row.expires_at),
  };
}

const valuesOf = (entry: LedgerEntry) => [
  entry.id,
  entry.provider,
  entry.account,
  entry.idempotencyKey,
  entry.state,
  entry.conversionId,
  entry.amount === undefined ? null : JSON.stringify(entry.amount),
  entry.result === undefined ? null : JSON.stringify(entry.result),
  entry.error ?? null,
  entry.holder ?? null,
  entry.leaseUntil ?? null,
  entry.attempts,
  entry.createdAt,
  entry.updatedAt,
  entry.expiresAt,
];

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * How long a claim or record waits for its answer: until its deadline, and at least a second (the
 * statement itself refuses to write after the deadline, on PostgreSQL's clock, so a statement
 * that runs late changes nothing; the timeout only stops the wait).
 */
const queryTimeout = (deadline: number) => Math.max(1_000, Math.ceil(deadline - Date.now()));

/**
 * The refund ledger on PostgreSQL: one row per entry in `table`. A fresh claim is one
 * `INSERT … ON CONFLICT DO NOTHING` (the primary key decides between processes); any other claim,
 * and every settlement, locks the row (`SELECT … FOR UPDATE`) and applies `decideClaim` or
 * `decideResolve` in one transaction, on PostgreSQL's clock. A record is one `UPDATE`/`DELETE`
 * guarded by the holder. Expired rows are deleted at most hourly per process.
 */
export function postgresLedger(pool: PostgresPoolLike, options: PostgresLedgerOptions = {}): RefundLedger {
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const table = options.table ?? 'clawback_refund_ledger';
  const sql = postgresLedgerSql(table);
  let ready: Promise<void> | undefined;
  let prunedAt = 0;

  /** Runs `work` in one transaction on one connection, after the table exists. */
  async function transaction<T>(work: (client: PostgresClientLike) => Promise<T>): Promise<T> {
    await setUp();
    const client = await pool.connect();
    try {
      await client.query({ text: 'BEGIN' });
      const result = await work(client);
      await client.query({ text: 'COMMIT' });
      client.release();
      return result;
    } catch (error) {
      await client.query({ text: 'ROLLBACK' }).catch(() => {});
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  function setUp(): Promise<void> {
    if (options.createTable === false) return Promise.resolve();
    ready ??= (async () => {
      const client = await pool.connect();
      try {
        // Concurrent CREATE TABLE IF NOT EXISTS can fail on the catalog's unique index: one at a time.
        await client.query({ text: 'BEGIN' });
        await client.query({ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', values: [`clawback.ledger:${table}`] });
        await client.query({ text: sql });
        await client.query({ text: 'COMMIT' });
        client.release();
      } catch (error) {
        await client.query({ text: 'ROLLBACK' }).catch(() => {});
        client.release(error instanceof Error ? error : true);
        ready = undefined;
        throw error;
      }
    })();
    return ready;
  }

  async function write(client: PostgresClientLike, id: string, entry: LedgerEntry | undefined, existed: boolean): Promise<boolean> {
    if (!entry) {
      await client.query({ text: `DELETE FROM ${table} WHERE id = $1`, values: [id] });
      return true;
    }
    if (existed) {
      await client.query({
        text: `UPDATE ${table} SET (${COLUMNS}) = ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) WHERE id = $1`,
        values: valuesOf(entry),
      });
      return true;
    }
    const inserted = await client.query({
      text: `INSERT INTO ${table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING`,
      values: valuesOf(entry),
    });
    return inserted.rowCount === 1;
  }

  /** The row locked for this transaction (or none), and PostgreSQL's time. */
  async function locked(client: PostgresClientLike, id: string): Promise<{ now: number; entry: LedgerEntry | undefined }> {
    const { rows } = await client.query({
      text: `SELECT ${NOW_MS} AS now_ms, row_to_json(e) AS entry FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM ${table} WHERE id = $1 FOR UPDATE) e ON true`,
      values: [id],
    });
    return { now: Number(rows[0].now_ms), entry: entryFrom(rows[0].entry) };
  }

  async function prune(): Promise<void> {
    if (Date.now() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = Date.now();
    await pool.query({ text: `DELETE FROM ${table} WHERE expires_at < ${NOW_MS}` }).catch(() => (prunedAt = 0));
  }

  const get = async (id: string) => {
    await setUp();
    const { rows } = await pool.query({ text: `SELECT ${COLUMNS} FROM ${table} WHERE id = $1 AND expires_at > ${NOW_MS}`, values: [id] });
    return entryFrom(rows[0]);
  };

  const store: LedgerStore = {
    retentionMs,
    async claim(key: LedgerKey, request): Promise<Claim> {
      await setUp();
      void prune();
      const id = ledgerId(key);
      // The call has given up already: nothing to claim.
      if (Date.now() > request.deadline) return { outcome: 'late' };
      const timeout = queryTimeout(request.deadline);
      // The common case, a key never seen: one statement, on PostgreSQL's clock, and nothing
      // written once the call's deadline has passed (a statement that ran late).
      const fresh = await pool.query({
        text: `INSERT INTO ${table} (${COLUMNS})
          SELECT $1, $2, $3, $4, 'in_flight', $5, $6, NULL, NULL, $7, n.ms + $8, 1, n.ms, n.ms, n.ms + $9
          FROM (SELECT ${NOW_MS} AS ms) n WHERE n.ms <= $10
          ON CONFLICT (id) DO NOTHING`,
        values: [id, key.provider, key.account, key.idempotencyKey, request.conversionId, request.amount ? JSON.stringify(request.amount) : null, request.holder, Math.ceil(request.leaseMs), retentionMs, Math.floor(request.deadline)],
        query_timeout: timeout,
      });
      if (fresh.rowCount === 1) return { outcome: 'claimed' };
      // Taken, expired, or late: decide under the row's lock (retried if another process inserted it meanwhile).
      for (;;) {
        const decided = await transaction(async (client) => {
          const { now, entry } = await locked(client, id);
          const { claim, write: next } = decideClaim(entry, key, request, now, retentionMs);
          if (next && !(await write(client, id, next, entry !== undefined))) return undefined;
          return claim;
        });
        if (decided) return decided;
      }
    },
    async record(key, holder, outcome, deadline) {
      await setUp();
      const id = ledgerId(key);
      const guard = `id = $1 AND state = 'in_flight' AND holder = $2 AND ${NOW_MS} <= $3`;
      if (Date.now() > deadline) return;
      const timeout = queryTimeout(deadline);
      if (outcome.state === 'not_applied') {
        // Released only when no earlier send of the key exists (a first claim); an entry taken
        // over from a dead holder or an ambiguous outcome goes back to ambiguous.
        const released = await pool.query({ text: `DELETE FROM ${table} WHERE ${guard} AND attempts <= 1`, values: [id, holder, Math.floor(deadline)], query_timeout: timeout });
        if (released.rowCount === 1) return;
        await pool.query({
          text: `UPDATE ${table} SET state = 'ambiguous', error = COALESCE(error, $4), holder = NULL, lease_until = NULL,
            updated_at = ${NOW_MS}, expires_at = ${NOW_MS} + $5 WHERE ${guard}`,
          values: [id, holder, Math.floor(deadline), DIED_WHILE_SENDING, retentionMs],
          query_timeout: timeout,
        });
        return;
      }
      // `decideRecord`, as one statement guarded by the holder and the deadline.
      const applied = outcome.state === 'applied';
      await pool.query({
        text: `UPDATE ${table} SET state = $4, result = $5, error = $6, holder = NULL, lease_until = NULL,
          updated_at = ${NOW_MS}, expires_at = ${NOW_MS} + $7 WHERE ${guard}`,
        values: [id, holder, Math.floor(deadline), outcome.state, applied ? JSON.stringify(outcome.result) : null, applied ? null : outcome.error, retentionMs],
        query_timeout: timeout,
      });
    },
    get,
    async list(filter = {}) {
      await setUp();
      void prune();
      const { rows } = await pool.query({
        text: `SELECT ${COLUMNS} FROM ${table} WHERE expires_at > ${NOW_MS} AND ($1::text IS NULL OR state = $1) ORDER BY updated_at DESC LIMIT $2`,
        values: [filter.state ?? null, filter.limit ?? 100],
      });
      return rows.map((row) => entryFrom(row) as LedgerEntry);
    },
    async resolve(id, outcome) {
      await transaction(async (client) => {
        const { now, entry } = await locked(client, id);
        const decision = decideResolve(entry && entry.expiresAt > now ? entry : undefined, outcome, now, retentionMs);
        if ('refused' in decision) throw refusedSettlement(id, decision.refused);
        await write(client, id, decision.write, true);
      });
      return get(id);
    },
  };
  return defineLedger(store);
}
