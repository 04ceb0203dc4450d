import { AbortedError, ClawbackError, ValidationError, unexpectedFailure } from './core/errors.js';
import { sha256Hex } from './core/hmac.js';
import { notify } from './core/hooks.js';
import { expected, functionSchema, integer, isPlainObject, optional, parseInput, signalSchema, strictObject } from './core/validation.js';
import * as z from 'zod/mini';
import { refund, type RefundOptions, type RefundProvider } from './refund.js';
import type { ProviderName, RefundResult } from './spec/refund-provider-v1.js';

/** One item: `refund()`'s options, and the payment processor's id for this refund. */
export type RefundManyItem = RefundOptions<RefundProvider> & {
  /**
   * The id your payment processor gave this refund (Stripe `re_…`, a Shopify refund id). The
   * derived idempotency key comes from it, so two equal partial refunds of one order are two
   * refunds, and the same refund sent again is a replay. Required for a partial refund without
   * an `idempotencyKey` (unless `allowAmountKeys`).
   */
  refundId?: string;
};

/** One item's end: the refund's result, or the typed error it failed with. */
export type RefundManyOutcome =
  | { index: number; ok: true; result: RefundResult }
  | { index: number; ok: false; error: ClawbackError };

/** What `onProgress` is told after each item: how many are done, and how many succeeded and failed so far. */
export interface RefundManyProgress {
  /** Items settled so far, and in all. */
  done: number;
  total: number;
  succeeded: number;
  failed: number;
  /** The item that just settled. */
  outcome: RefundManyOutcome;
}

/** `refundMany(items, options)`'s options: how many refunds run at once, a signal to stop, and progress reports. */
export interface RefundManyOptions {
  /** Refunds in flight at once, 1 to 64 (default 4). Each provider's rate limiter still spaces them. */
  concurrency?: number;
  /** Called as each item settles. An exception (or a rejected promise) in it is ignored. */
  onProgress?: (progress: RefundManyProgress) => void;
  /** Stops the batch: no further item starts, and those in flight are aborted (`AbortedError`). */
  signal?: AbortSignal;
  /**
   * Derive the key of a partial refund that has neither `refundId` nor `idempotencyKey` from its
   * amount, as clawback did before refund ids. The risk: two genuine refunds of the same amount
   * on one conversion, in this batch or in a later one, get the same key, and the vendor takes
   * the second for a replay of the first, so its commission is never clawed back. Default false.
   */
  allowAmountKeys?: boolean;
}

const refundManyOptionsSchema = strictObject(
  {
    concurrency: optional(
      integer(expected('a whole number')).check(z.refine((value) => value >= 1 && value <= 64, 'must be between 1 and 64')),
    ),
    onProgress: optional(functionSchema<RefundManyOptions['onProgress']>()),
    signal: optional(signalSchema),
    allowAmountKeys: optional(z.boolean({ error: expected('true or false') })),
  },
  { error: expected('an options object') },
);

const REFUND_ID_REQUIRED =
  "is required for a partial refund without an idempotencyKey: a key derived from the amount would be the same for two equal partial refunds of one conversion, and the vendor would take the second for a replay and not refund it. Give the payment processor's id of this refund (Stripe re_…, a Shopify refund id), or an idempotencyKey, or allowAmountKeys: true to accept that risk";

/** The derivation `refundMany` and the CLI use, named in keys (`cbm2_`) and in CLI journals. */
export const KEY_DERIVATION = 'cbm2';

/**
 * The idempotency key `refundMany` gives an item without one: `cbm2_` and the first 40 hex
 * digits of the SHA-256 of a JSON array, by what the item says:
 * - with `refundId`: `["clawback.refundMany.v2", provider, conversionId, "refund", refundId]`;
 * - a full refund (no amount) without one: `["clawback.refundMany.v2", provider, conversionId, "full"]`;
 * - a partial refund without one, only with `allowAmountKeys`: `["clawback.refundMany.v2",
 *   provider, conversionId, "amount", value, CURRENCY]`; without it, a `ValidationError` naming
 *   `refundId`.
 * The same item gets the same key in every run, so the vendor replays instead of refunding
 * again. Reason, date and customer are not part of it: an edited reason is still the same refund.
 */
export async function deriveIdempotencyKey(
  item: {
    provider: { provider: ProviderName };
    conversionId: string;
    amount?: { value: number; currency: string } | undefined;
    refundId?: string | undefined;
  },
  options: { allowAmountKeys?: boolean } = {},
): Promise<string> {
  const base = ['clawback.refundMany.v2', item.provider.provider, item.conversionId];
  let material: unknown[];
  if (item.refundId !== undefined) material = [...base, 'refund', item.refundId];
  else if (item.amount === undefined) material = [...base, 'full'];
  else if (options.allowAmountKeys) material = [...base, 'amount', item.amount.value, item.amount.currency.toUpperCase()];
  else throw new ValidationError([{ path: 'refundId', message: REFUND_ID_REQUIRED }], { context: 'deriveIdempotencyKey()' });
  return `${KEY_DERIVATION}_${(await sha256Hex(JSON.stringify(material))).slice(0, 40)}`;
}

type Item = RefundManyItem;

function itemError(index: number, path: string, message: string, provider?: ProviderName): ClawbackError {
  return new ValidationError([{ path, message }], { context: `refundMany() item ${index}`, provider });
}

/**
 * The key each item will be sent with, or why the item cannot be sent. Refused here, before
 * anything is sent: two items with the same key (the vendor would treat the second as a replay
 * of the first, so it would silently not refund), RefCampaign partial refunds on a provider
 * without a ledger (RefCampaign cannot deduplicate them, so running the batch again would refund
 * them again), and partial refunds whose key could only come from their amount.
 */
type Step = { key: string | undefined } | { error: ClawbackError };

async function plan(items: readonly unknown[], allowAmountKeys: boolean): Promise<Step[]> {
  const planned: Step[] = [];
  const firstWithKey = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    if (!isPlainObject(item)) {
      planned.push({ error: itemError(index, '(input)', 'must be a refund() options object') });
      continue;
    }
    const provider = isPlainObject(item.provider) ? (item.provider.provider as ProviderName | undefined) : undefined;
    const ledgered = isPlainObject(item.provider) && item.provider.ledger !== undefined;
    const refundId = item.refundId;
    if (refundId !== undefined && (typeof refundId !== 'string' || refundId.trim() === '')) {
      planned.push({ error: itemError(index, 'refundId', `must be a non-empty string, got ${JSON.stringify(refundId)}`, provider) });
      continue;
    }
    if (provider === 'refcampaign' && item.amount !== undefined && !ledgered) {
      planned.push({
        error: itemError(
          index,
          'amount',
          'is a RefCampaign partial refund, which RefCampaign cannot deduplicate: a batch run again would refund it again. Give the provider a ledger (createRefCampaign({ ledger })), which sends each key once, or send it on its own with refund() and make sure it is sent once',
          provider,
        ),
      });
      continue;
    }
    let key = item.idempotencyKey;
    if (key === undefined) {
      if (item.amount !== undefined && refundId === undefined && !allowAmountKeys) {
        planned.push({ error: itemError(index, 'refundId', REFUND_ID_REQUIRED, provider) });
        continue;
      }
      // Not derivable means malformed (no provider, an amount without a currency): refund()
      // refuses the item and names the field, so no random key is ever used instead.
      key = await deriveIdempotencyKey(item as Parameters<typeof deriveIdempotencyKey>[0], { allowAmountKeys }).catch(() => undefined);
    }
    if (typeof key === 'string') {
      const first = firstWithKey.get(key);
      if (first !== undefined) {
        const why =
          item.idempotencyKey !== undefined
            ? `is the same as item ${first}'s`
            : refundId !== undefined
              ? `is derived from the same provider, conversionId and refundId as item ${first}'s`
              : `is derived from the same provider, conversionId and ${item.amount === undefined ? 'full refund' : 'amount'} as item ${first}'s`;
        planned.push({
          error: itemError(
            index,
            'idempotencyKey',
            `${why}, so the vendor would take it for a replay and not refund it. If both refunds are meant, give each its own refundId`,
            provider,
          ),
        });
        continue;
      }
      firstWithKey.set(key, index);
      planned.push({ key });
    } else {
      planned.push({ key: undefined }); // an invalid key: refund() refuses it
    }
  }
  return planned;
}

/**
 * Refunds many conversions: `concurrency` at a time, each through its provider's rate limiter
 * (so never faster than the vendor's documented rate), each with an idempotency key derived
 * from the item when it has none (see `deriveIdempotencyKey`), so running the same batch again
 * cannot refund twice. Resolves to one outcome per item, in order; one item's failure never
 * rejects the batch. Rejects only for invalid `options` or `items` that is not an array.
 */
export async function refundMany(items: readonly Item[], options: RefundManyOptions = {}): Promise<RefundManyOutcome[]> {
  if (!Array.isArray(items)) {
    throw new ValidationError([{ path: 'items', message: 'must be an array of refund() options' }], { context: 'Invalid refundMany() call' });
  }
  const { concurrency = 4, onProgress, signal, allowAmountKeys = false } = parseInput(refundManyOptionsSchema, options, 'Invalid refundMany() options');
  const planned = await plan(items, allowAmountKeys);
  const outcomes: RefundManyOutcome[] = new Array(items.length);
  let next = 0;
  let succeeded = 0;
  let failed = 0;

  const settle = (outcome: RefundManyOutcome) => {
    outcomes[outcome.index] = outcome;
    if (outcome.ok) succeeded += 1;
    else failed += 1;
    // An observer must not stop a batch that moves money half way: a throw or rejection is ignored.
    notify('onProgress', onProgress, { done: succeeded + failed, total: items.length, succeeded, failed, outcome }, undefined);
  };

  async function runOne(index: number): Promise<RefundManyOutcome> {
    const step = planned[index] as Step;
    if ('error' in step) return { index, ok: false, error: step.error };
    if (signal?.aborted) {
      return {
        index,
        ok: false,
        error: new AbortedError('Not sent: the batch was aborted before this item started.', { retryable: true, idempotencyKey: step.key }),
      };
    }
    const { refundId: _refundId, ...item } = items[index] as Item;
    const itemSignal = item.signal && signal ? AbortSignal.any([item.signal, signal]) : (item.signal ?? signal);
    try {
      const result = await refund({
        ...(item as RefundOptions<RefundProvider>),
        ...(step.key === undefined ? {} : { idempotencyKey: step.key }),
        ...(itemSignal ? { signal: itemSignal } : {}),
      });
      return { index, ok: true, result };
    } catch (error) {
      return {
        index,
        ok: false,
        error: unexpectedFailure(error, (item.provider as Partial<RefundProvider> | undefined)?.provider),
      };
    }
  }

  async function worker() {
    while (next < items.length) {
      const index = next;
      next += 1;
      settle(await runOne(index));
    }
  }

  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return outcomes;
}
