import { ValidationError } from './errors.js';
import { refundThroughLedger, type LedgerCallContext } from './ledger-call.js';
import type { Money, ProviderName, RefundCall, RefundResult } from '../spec/refund-provider-v1.js';

// The refund ledger: one record per (vendor, account, idempotency key), shared by every process
// that refunds through it, so that a fleet sends each refund once. A call claims its key before
// anything is sent, and records how the send ended. The rules live in `decideClaim`, which every
// store applies atomically: in one thread (`memoryLedger`), a Lua script (`clawback/redis`) or a
// row lock (`clawback/postgres`).

/** Where a refund stands: being sent (by `holder`, until its lease runs out), applied, or maybe applied. */
export type LedgerState = 'in_flight' | 'applied' | 'ambiguous';

/** What a ledger entry is keyed by. `account` is a fingerprint of the API key and account id: no secret is stored. */
export interface LedgerKey {
  provider: ProviderName;
  account: string;
  idempotencyKey: string;
}

export interface LedgerEntry extends LedgerKey {
  /** `provider:account:idempotencyKey`: what `clawback ledger list` prints and `resolve` takes. */
  id: string;
  state: LedgerState;
  conversionId: string;
  amount?: Money | undefined;
  /** What the vendor confirmed (state `applied`). */
  result?: RefundResult | undefined;
  /** Why it may or may not have been applied (state `ambiguous`). */
  error?: string | undefined;
  /** The call holding it (state `in_flight`), and until when (epoch milliseconds). */
  holder?: string | undefined;
  leaseUntil?: number | undefined;
  /** Sends claimed for this key: more than one after a re-send. */
  attempts: number;
  createdAt: number;
  updatedAt: number;
  /** When the store forgets it (epoch milliseconds): `retentionMs` after its last change. */
  expiresAt: number;
}

/** What a call asks of the ledger when it claims its key: who holds it, for how long, by when the claim must be written, and the refund it is for. */
export interface ClaimRequest {
  /** This call's own id (a fresh UUID). */
  holder: string;
  /** How long the claim holds before another process may take it over: the call's time budget plus a margin. */
  leaseMs: number;
  /**
   * Epoch milliseconds after which the claim must not be made: the call has given up by then, and
   * a claim made later (a command a client queued while the store was away) would show a refund
   * never sent as one that may have been.
   */
  deadline: number;
  /**
   * The vendor deduplicates this request (the same key cannot refund twice there): an entry whose
   * holder died, or whose outcome is ambiguous, may be sent again with the same key.
   */
  dedupes: boolean;
  conversionId: string;
  amount?: Money | undefined;
}

/** How a claim went: send (`claimed`, `retake` when taking over a dead holder's or an ambiguous entry), or not. */
export type Claim =
  | { outcome: 'claimed'; retake?: 'in_flight' | 'ambiguous' | undefined }
  | { outcome: 'applied'; entry: LedgerEntry }
  | { outcome: 'busy'; retryIn: number }
  | { outcome: 'ambiguous'; entry: LedgerEntry }
  | { outcome: 'late' };

/** How a send ended, for `record`: applied, maybe applied, or certainly not (the claim is released). */
export type LedgerOutcome =
  | { state: 'applied'; result: RefundResult }
  | { state: 'ambiguous'; error: string }
  | { state: 'not_applied' };

/** `ledger.list(filter)`: entries in one state, of one provider, at most `limit` of them. */
export interface LedgerListFilter {
  state?: LedgerState;
  /** At most this many entries (default 100). */
  limit?: number;
}

/**
 * Where a fleet's refunds are recorded. `memoryLedger()` keeps one process's; `redisLedger` and
 * `postgresLedger` (`clawback/redis`, `clawback/postgres`) share one across processes. Write
 * your own for another store by applying `decideClaim` atomically in `claim`, and pass it
 * through `defineLedger()`.
 */
export interface LedgerStore {
  /** How long entries are kept after their last change, in milliseconds. */
  readonly retentionMs: number;
  /** Claims `key` for one call, atomically, as `decideClaim` rules. */
  claim(key: LedgerKey, request: ClaimRequest): Promise<Claim>;
  /**
   * Records how `holder`'s send ended; does nothing when `holder` no longer holds the key (another
   * process took it over) or `deadline` (epoch milliseconds) has passed. `not_applied` removes the
   * entry, so a later call may send again.
   */
  record(key: LedgerKey, holder: string, outcome: LedgerOutcome, deadline: number): Promise<void>;
  /** The entry with this `id`, if any. */
  get(id: string): Promise<LedgerEntry | undefined>;
  /** Entries, newest change first, optionally in one state. */
  list(filter?: LedgerListFilter): Promise<LedgerEntry[]>;
  /**
   * An operator's settlement of an entry whose outcome is not known (ambiguous, or its sender
   * died): `applied` (later calls resolve to it, sending nothing) or `not_applied` (removed: the
   * next call sends). Resolves to the entry as it now is (undefined once removed); rejects with a
   * `ValidationError` for an entry that is applied, being sent, or not there (`decideResolve`).
   */
  resolve(id: string, outcome: 'applied' | 'not_applied'): Promise<LedgerEntry | undefined>;
}

/** With a ledger, every call has a budget (default `totalTimeout`): its claim's lease is that plus a margin. */
export const LEDGER_TOTAL_TIMEOUT_MS = 120_000;

/** Where a ledger carries the rules a provider runs a refund by (so providers without a ledger do not carry them). */
export const LEDGER_RULES: unique symbol = Symbol.for('clawback.ledger.rules') as never;

/** A `LedgerStore` with clawback's rules attached: what a provider's `ledger` setting takes. */
export interface RefundLedger extends LedgerStore {
  /** @internal How a provider runs one refund through this ledger (attached by `defineLedger`). */
  readonly [LEDGER_RULES]: (context: LedgerCallContext, call: RefundCall, dedupes: boolean, send: (call: RefundCall) => Promise<RefundResult>) => Promise<RefundResult>;
}

/**
 * Makes a store of your own (one that applies `decideClaim`, `decideRecord` and `decideResolve`
 * atomically) a `RefundLedger` a provider takes: `createAffonso({ ledger: defineLedger(store) })`.
 * `memoryLedger`, `redisLedger` and `postgresLedger` are made this way.
 */
export function defineLedger<T extends LedgerStore>(store: T): T & RefundLedger {
  return Object.defineProperty(store, LEDGER_RULES, { value: refundThroughLedger }) as T & RefundLedger;
}

/** 30 days: longer than Stripe's three days of redeliveries and Affonso's 48 hours of webhook retries. */
export const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** A ledger entry's id: `<provider>:<account>:<idempotencyKey>`, as `clawback ledger` prints and takes it. */
export const ledgerId = (key: LedgerKey): string => `${key.provider}:${key.account}:${key.idempotencyKey}`;

/** The key an `id` names (the idempotency key may itself hold colons). */
export function parseLedgerId(id: string): LedgerKey | undefined {
  const match = /^(affixo|affonso|refcampaign|firstpromoter):([0-9a-f]+):(.+)$/.exec(id);
  return match ? { provider: match[1] as ProviderName, account: match[2] as string, idempotencyKey: match[3] as string } : undefined;
}

/** The result an operator's `resolve(id, 'applied')` leaves for later calls to replay. */
export function settledResult(entry: LedgerEntry): RefundResult {
  return {
    provider: entry.provider,
    conversionId: entry.conversionId,
    status: 'accepted',
    duplicate: true,
    idempotencyKey: entry.idempotencyKey,
    ...(entry.amount ? { amount: entry.amount } : {}),
    warnings: ['settled as applied by an operator (clawback ledger resolve): what the vendor answered is not known'],
    raw: null,
  };
}

/**
 * The ledger's rules: what a claim finds, and what the store must write, at `now` (the store's
 * epoch milliseconds). Every store applies them in one atomic step.
 *
 * - Nothing there (or only an expired entry): claimed; a new entry `in_flight`, held by this call.
 * - `applied`: replay the stored result; nothing is sent.
 * - `in_flight`, lease running: another process is sending it: `busy` until the lease ends.
 * - `in_flight`, lease over (its holder died), or `ambiguous`: where the vendor deduplicates the
 *   request, taken over (`retake`) and sent again with the same key; where it cannot (a
 *   RefCampaign partial refund), `ambiguous`, and a dead holder's entry becomes `ambiguous` for
 *   an operator to settle: nothing is sent until then.
 */
export function decideClaim(
  entry: LedgerEntry | undefined,
  key: LedgerKey,
  request: ClaimRequest,
  now: number,
  retentionMs: number,
): { claim: Claim; write?: LedgerEntry } {
  if (now > request.deadline) return { claim: { outcome: 'late' } };
  const current = entry && entry.expiresAt > now ? entry : undefined;
  const held = (base: LedgerEntry | undefined): LedgerEntry => ({
    ...key,
    id: ledgerId(key),
    state: 'in_flight',
    conversionId: request.conversionId,
    ...(request.amount ? { amount: request.amount } : {}),
    // Taken over: why an earlier send may have applied it, kept for when this one does not send.
    ...(base ? { error: base.error ?? DIED_WHILE_SENDING } : {}),
    holder: request.holder,
    leaseUntil: Math.ceil(now + request.leaseMs),
    attempts: (base?.attempts ?? 0) + 1,
    createdAt: base?.createdAt ?? now,
    updatedAt: now,
    expiresAt: now + retentionMs,
  });
  if (!current) return { claim: { outcome: 'claimed' }, write: held(undefined) };
  if (current.state === 'applied') return { claim: { outcome: 'applied', entry: current } };
  if (current.state === 'in_flight' && (current.leaseUntil ?? 0) > now) {
    return { claim: { outcome: 'busy', retryIn: (current.leaseUntil ?? now) - now } };
  }
  if (request.dedupes) return { claim: { outcome: 'claimed', retake: current.state }, write: held(current) };
  if (current.state === 'ambiguous') return { claim: { outcome: 'ambiguous', entry: current } };
  const orphaned: LedgerEntry = {
    ...current,
    state: 'ambiguous',
    error: DIED_WHILE_SENDING,
    holder: undefined,
    leaseUntil: undefined,
    updatedAt: now,
    expiresAt: now + retentionMs,
  };
  return { claim: { outcome: 'ambiguous', entry: orphaned }, write: orphaned };
}

/** Why an entry whose sender died is ambiguous. */
export const DIED_WHILE_SENDING = 'the process sending it stopped before recording how it ended';

/**
 * The entry after `holder`'s send ended, or `undefined` to remove it; `'keep'` when `holder` no
 * longer holds it. `not_applied` releases the claim only when no earlier send of the key exists
 * (`attempts` is 1): an entry taken over from a dead holder or an ambiguous outcome goes back to
 * `ambiguous`, since that earlier send may have applied it whatever this one did.
 */
export function decideRecord(
  entry: LedgerEntry | undefined,
  holder: string,
  outcome: LedgerOutcome,
  now: number,
  retentionMs: number,
): LedgerEntry | undefined | 'keep' {
  if (!entry || entry.state !== 'in_flight' || entry.holder !== holder) return 'keep';
  if (outcome.state === 'not_applied' && entry.attempts <= 1) return undefined;
  const settled = { ...entry, holder: undefined, leaseUntil: undefined, updatedAt: now, expiresAt: now + retentionMs };
  if (outcome.state === 'applied') return { ...settled, state: 'applied', result: outcome.result, error: undefined };
  return { ...settled, state: 'ambiguous', error: outcome.state === 'ambiguous' ? outcome.error : (entry.error ?? DIED_WHILE_SENDING) };
}

/**
 * An operator's settlement: the entry to write (`undefined` to remove it), or why it is refused.
 * Only an entry whose outcome is not known may be settled: an `ambiguous` one, or one whose
 * sender died (`in_flight`, lease over). An applied one is what the vendor confirmed, and one
 * being sent may be applied any moment; settling either as not applied would let it be sent twice.
 */
export function decideResolve(
  entry: LedgerEntry | undefined,
  outcome: 'applied' | 'not_applied',
  now: number,
  retentionMs: number,
): { write: LedgerEntry | undefined } | { refused: string } {
  if (!entry) return { refused: 'is not in the ledger (or has expired)' };
  if (entry.state === 'applied') return { refused: 'is applied: the vendor confirmed it, so there is nothing to settle' };
  if (entry.state === 'in_flight' && (entry.leaseUntil ?? 0) > now) {
    return { refused: `is being sent by another process right now (its lease runs ${Math.ceil(((entry.leaseUntil ?? now) - now) / 1000)} s more): settle it only if it ends ambiguous` };
  }
  if (outcome === 'not_applied') return { write: undefined };
  return {
    write: {
      ...entry,
      state: 'applied',
      result: settledResult(entry),
      error: undefined,
      holder: undefined,
      leaseUntil: undefined,
      updatedAt: now,
      expiresAt: now + retentionMs,
    },
  };
}

/** The error an operator's refused settlement throws, naming the entry and why. */
export function refusedSettlement(id: string, reason: string): ValidationError {
  return new ValidationError([{ path: 'id', message: `${id} ${reason}` }], { context: 'Cannot settle this ledger entry' });
}
