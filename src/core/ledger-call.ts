import { AbortedError, ClawbackError } from './errors.js';
import { LedgerUnavailableError, RefundInProgressError, UnsettledRefundError } from './ledger-errors.js';
import { log, type Logger } from './hooks.js';
import { sha256Hex } from './hmac.js';
import { ledgerId, type Claim, type LedgerEntry, type LedgerKey, type LedgerOutcome, type LedgerStore } from './ledger.js';
import type { ProviderName, RefundCall, RefundResult } from '../spec/refund-provider-v1.js';

// One refund() through the ledger: claim the key, send (or not), record how it ended. It travels
// with the ledger (`defineLedger`), so a provider without one does not carry it.

export interface LedgerCallContext {
  ledger: LedgerStore;
  provider: ProviderName;
  vendor: string;
  /** The provider's auth headers, whose fingerprint is the ledger's `account` (no secret is stored). */
  credentials: () => Record<string, string>;
  logger: Logger | undefined;
  /** The call's time budget unless it sets `totalTimeout`: the provider's, 120 s by default with a ledger. */
  totalTimeout: number;
}

/**
 * Added to the call's budget for its claim's lease, so a holder that is alive never loses it:
 * 5 s, or the budget itself when that is shorter. With the default 120 s budget a holder that
 * died blocks its key for about two minutes.
 */
export const LEASE_MARGIN_MS = 5_000;
/** Recording an outcome gets its own short deadline: the refund has been decided by then. */
const RECORD_BUDGET_MS = 5_000;
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;

/** `work` within `ms`, or a `LedgerUnavailableError`: a store that is away must not hold a refund past its budget. */
async function withinBudget<T>(work: () => Promise<T>, ms: number, what: string, context: LedgerCallContext, key: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), Math.max(1, Math.ceil(ms)));
  });
  try {
    return await Promise.race([Promise.resolve().then(work), timeout]);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new LedgerUnavailableError(
      `The refund ledger could not ${what} (${why}), so nothing was sent to ${context.vendor}. It is safe to retry with the same idempotencyKey once the ledger is reachable.`,
      { provider: context.provider, idempotencyKey: key, retryable: true, ambiguous: false, cause: error instanceof Error ? error : undefined },
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The ledger's `account` for a provider's auth headers: a fingerprint, never the secret. Kept per
 * headers object (a provider resolves its credentials once), so a call does not hash them again.
 */
const accounts = new WeakMap<object, string>();
async function accountOf(provider: ProviderName, headers: Record<string, string>): Promise<string> {
  let account = accounts.get(headers);
  if (account === undefined) {
    account = (await sha256Hex(JSON.stringify(['clawback.account.v1', provider, ...Object.entries(headers).sort().flat()]))).slice(0, 32);
    accounts.set(headers, account);
  }
  return account;
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(stop, Math.max(1, Math.ceil(ms)));
    signal?.addEventListener('abort', stop, { once: true });
  });

/** The result a replay resolves to: what the vendor confirmed the first time, marked a duplicate. */
function replay(entry: LedgerEntry, call: RefundCall): RefundResult {
  const stored = entry.result as RefundResult;
  return { ...stored, duplicate: true, idempotencyKey: call.idempotencyKey, warnings: [...stored.warnings, `replayed from the refund ledger (${entry.id}): nothing was sent`] };
}

/**
 * Claims `call`'s key, then sends it with `send` (within what is left of its budget, so it ends
 * before its lease), or resolves to the stored result, or waits for another process's outcome,
 * or refuses; then records how the send ended.
 */
export async function refundThroughLedger(
  context: LedgerCallContext,
  call: RefundCall,
  dedupes: boolean,
  send: (call: RefundCall) => Promise<RefundResult>,
): Promise<RefundResult> {
  const { ledger, provider, vendor } = context;
  const started = performance.now();
  const budget = call.totalTimeout ?? context.totalTimeout;
  const left = () => budget - (performance.now() - started);
  const idempotencyKey = call.idempotencyKey;
  const account = await accountOf(provider, context.credentials());
  const key: LedgerKey = { provider, account, idempotencyKey };
  const id = ledgerId(key);
  const holder = globalThis.crypto.randomUUID();
  const details = { provider, idempotencyKey };
  let poll = FIRST_POLL_MS;
  let claim: Claim;
  for (;;) {
    if (call.signal?.aborted) throw new AbortedError(`The ${vendor} call was aborted before it was sent.`, { ...details, retryable: true });
    const remaining = left();
    const request = {
      holder,
      leaseMs: Math.ceil(remaining + Math.min(LEASE_MARGIN_MS, budget)),
      deadline: Math.floor(Date.now() + remaining),
      dedupes,
      conversionId: call.conversionId,
      amount: call.amount,
    };
    claim = await withinBudget(() => ledger.claim(key, request), remaining, 'claim this refund', context, idempotencyKey);
    if (claim.outcome === 'claimed') break;
    if (claim.outcome === 'applied') return replay(claim.entry, call);
    if (claim.outcome === 'late') {
      throw new LedgerUnavailableError(`The refund ledger answered after this call's time budget (${budget} ms), so nothing was sent to ${vendor}. It is safe to retry with the same idempotencyKey.`, {
        ...details,
        retryable: true,
      });
    }
    if (claim.outcome === 'ambiguous') {
      throw new UnsettledRefundError(
        `An earlier send of this ${vendor} refund may have been applied (${claim.entry.error ?? 'its outcome is not known'}), and ${vendor} cannot recognise a repeat of it, so nothing was sent. Check the conversion at ${vendor}, then settle it: clawback ledger resolve ${id} --applied (or --not-applied to let the next call send it).`,
        { ...details, ledgerId: id, ambiguous: true, retryable: false },
      );
    }
    const wait = Math.min(poll, claim.retryIn, left());
    if (wait <= 0 || left() - wait <= 0) {
      throw new RefundInProgressError(
        `Another process is sending this ${vendor} refund (ledger entry ${id}) and did not finish within this call's time budget (${budget} ms); nothing was sent by this call. Retry later with the same idempotencyKey: it resolves to that outcome.`,
        { ...details, retryable: true },
      );
    }
    await sleep(wait, call.signal);
    poll = Math.min(poll * 2, MAX_POLL_MS);
  }

  const recordOutcome = async (outcome: LedgerOutcome) => {
    try {
      await withinBudget(() => ledger.record(key, holder, outcome, Date.now() + RECORD_BUDGET_MS), RECORD_BUDGET_MS, 'record how it ended', context, idempotencyKey);
    } catch (error) {
      log(
        context.logger,
        'warn',
        `clawback: the refund ledger did not record that ${id} ended ${outcome.state} (${(error as Error).message}). Until its lease ends, calls with this key wait; then they send it again where ${vendor} deduplicates it, or flag it ambiguous where it cannot.`,
      );
    }
  };
  let result: RefundResult;
  try {
    result = await send({ ...call, totalTimeout: Math.max(1, Math.floor(left())) });
  } catch (error) {
    const ambiguous = !ClawbackError.isInstance(error) || (error as ClawbackError).ambiguous;
    await recordOutcome(ambiguous ? { state: 'ambiguous', error: (error as Error).message } : { state: 'not_applied' });
    throw error;
  }
  await recordOutcome({ state: 'applied', result });
  return claim.retake ? { ...result, warnings: [...result.warnings, `sent again after ${claim.retake === 'ambiguous' ? 'an ambiguous outcome' : 'its earlier sender stopped'} (ledger entry ${id}); ${vendor} deduplicates it`] } : result;
}
