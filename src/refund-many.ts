import { AbortedError, ClawbackError, ValidationError } from './core/errors.js';
import { notify } from './core/hooks.js';
import { expected, functionSchema, integer, isPlainObject, optional, parseInput, signalSchema, strictObject } from './core/validation.js';
import * as z from 'zod/mini';
import { refund, type RefundOptions, type RefundProvider } from './refund.js';
import type { ProviderName, RefundResult } from './spec/refund-provider-v1.js';

/** One item's end: the refund's result, or the typed error it failed with. */
export type RefundManyOutcome =
  | { index: number; ok: true; result: RefundResult }
  | { index: number; ok: false; error: ClawbackError };

export interface RefundManyProgress {
  /** Items settled so far, and in all. */
  done: number;
  total: number;
  succeeded: number;
  failed: number;
  /** The item that just settled. */
  outcome: RefundManyOutcome;
}

export interface RefundManyOptions {
  /** Refunds in flight at once, 1 to 64 (default 4). Each provider's rate limiter still spaces them. */
  concurrency?: number;
  /** Called as each item settles. An exception (or a rejected promise) in it is ignored. */
  onProgress?: (progress: RefundManyProgress) => void;
  /** Stops the batch: no further item starts, and those in flight are aborted (`AbortedError`). */
  signal?: AbortSignal;
}

const refundManyOptionsSchema = strictObject(
  {
    concurrency: optional(
      integer(expected('a whole number')).check(z.refine((value) => value >= 1 && value <= 64, 'must be between 1 and 64')),
    ),
    onProgress: optional(functionSchema<RefundManyOptions['onProgress']>()),
    signal: optional(signalSchema),
  },
  { error: expected('an options object') },
);

/**
 * The idempotency key `refundMany` gives an item that has none: `cbm1_` and the first 40 hex
 * digits of the SHA-256 of `["clawback.refundMany.v1", provider, conversionId, amount value or
 * null, currency upper-cased or null]` as JSON. The same row therefore gets the same key in every
 * run, and the vendor replays instead of refunding again. Reason, date and customer are not part
 * of it: a row run again with an edited reason is still the same refund.
 */
export async function deriveIdempotencyKey(item: {
  provider: { provider: ProviderName };
  conversionId: string;
  amount?: { value: number; currency: string } | undefined;
}): Promise<string> {
  const material = JSON.stringify([
    'clawback.refundMany.v1',
    item.provider.provider,
    item.conversionId,
    item.amount?.value ?? null,
    item.amount?.currency.toUpperCase() ?? null,
  ]);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(material)));
  return `cbm1_${Array.from(digest.subarray(0, 20), (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

type Item = RefundOptions<RefundProvider>;

function itemError(index: number, path: string, message: string, provider?: ProviderName): ClawbackError {
  return new ValidationError([{ path, message }], { context: `refundMany() item ${index}`, provider });
}

/**
 * The key each item will be sent with, or why the item cannot be sent. Refused here, before
 * anything is sent: two items with the same key (the vendor would treat the second as a replay
 * of the first, so it would silently not refund), and RefCampaign partial refunds (RefCampaign
 * cannot deduplicate them, so running the batch again would refund them again).
 */
type Step = { key: string | undefined } | { error: ClawbackError };

async function plan(items: readonly unknown[]): Promise<Step[]> {
  const planned: Step[] = [];
  const firstWithKey = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    if (!isPlainObject(item)) {
      planned.push({ error: itemError(index, '(input)', 'must be a refund() options object') });
      continue;
    }
    const provider = isPlainObject(item.provider) ? (item.provider.provider as ProviderName | undefined) : undefined;
    if (provider === 'refcampaign' && item.amount !== undefined) {
      planned.push({
        error: itemError(
          index,
          'amount',
          'is a RefCampaign partial refund, which RefCampaign cannot deduplicate: a batch run again would refund it again. Send it on its own with refund() and make sure it is sent once',
          provider,
        ),
      });
      continue;
    }
    let key = item.idempotencyKey;
    if (key === undefined) {
      // Not derivable means malformed (no provider, an amount without a currency): refund()
      // refuses the item and names the field, so no random key is ever used instead.
      key = await deriveIdempotencyKey(item as Parameters<typeof deriveIdempotencyKey>[0]).catch(() => undefined);
    }
    if (typeof key === 'string') {
      const first = firstWithKey.get(key);
      if (first !== undefined) {
        planned.push({
          error: itemError(
            index,
            'idempotencyKey',
            item.idempotencyKey === undefined
              ? `is derived from the same provider, conversionId and amount as item ${first}'s, so the vendor would take it for a replay and not refund it. If both refunds are meant, give each its own idempotencyKey`
              : `is the same as item ${first}'s, so the vendor would take it for a replay and not refund it`,
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
  const { concurrency = 4, onProgress, signal } = parseInput(refundManyOptionsSchema, options, 'Invalid refundMany() options');
  const planned = await plan(items);
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
    const item = items[index] as Item;
    const itemSignal = item.signal && signal ? AbortSignal.any([item.signal, signal]) : (item.signal ?? signal);
    try {
      const result = await refund({
        ...item,
        ...(step.key === undefined ? {} : { idempotencyKey: step.key }),
        ...(itemSignal ? { signal: itemSignal } : {}),
      });
      return { index, ok: true, result };
    } catch (error) {
      return {
        index,
        ok: false,
        error: ClawbackError.isInstance(error)
          ? (error as ClawbackError)
          : new ClawbackError(`Unexpected failure: ${String(error)}`, { cause: error }),
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
