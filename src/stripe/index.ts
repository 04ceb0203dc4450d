import { ValidationError, type ValidationIssue } from '../core/errors.js';
import { expected, functionSchema, looseObject, optional, parseInput, validateField } from '../core/validation.js';
import { customerSchema, providerSchema, type RefundProvider } from '../refund.js';
import type { Customer, Money, ProviderName } from '../spec/refund-provider-v1.js';
import { stripeEventSchema } from './stripe-schemas.js';
import { isNeed, plan, planVendor, type Candidate, type Need, type Step, type StripeLookup, type StripeSkipped, type StripeSource } from './stripe-plan.js';

export { fromStripeAmount } from './stripe-money.js';
export { stripeChargeSchema, stripeDisputeSchema, stripeEventSchema, stripeRefundSchema } from './stripe-schemas.js';
export type { StripeCharge, StripeDispute, StripeRefund } from './stripe-schemas.js';
export type { StripeSkipped, StripeSource } from './stripe-plan.js';

/** `refundsFromStripeEvent()`'s options: the provider to refund through, and how to find the conversion (and FirstPromoter's lead) a Stripe payment earned. */
export interface StripeEventOptions<P extends RefundProvider = RefundProvider> {
  /** The clawback provider the commissions are on (`createAffonso()`, …). */
  provider: P;
  /**
   * How this merchant finds the conversion of a Stripe payment: a value stored in `metadata`,
   * or a lookup by `chargeId` or `paymentIntentId`. Return `undefined` when the payment earned
   * no commission: it is skipped. (A lookup that queries a database: `refundsFromStripeEventAsync`.)
   */
  conversionId: (source: StripeSource) => string | undefined;
  /** FirstPromoter's lead: `{ email }` or `{ uid }` (required for FirstPromoter). */
  customer?: (source: StripeSource) => Customer | undefined;
}

/** `refundsFromStripeEventAsync`'s options: the lookups may return promises, and Stripe can be asked what an event leaves out. */
export interface StripeEventAsyncOptions<P extends RefundProvider = RefundProvider> {
  provider: P;
  /** The conversion the payment earned, or undefined for none (the refund is skipped); may return a promise. */
  conversionId: (source: StripeSource) => string | undefined | Promise<string | undefined>;
  /** FirstPromoter's lead: `{ email }` or `{ uid }`; may return a promise. */
  customer?: (source: StripeSource) => Customer | undefined | Promise<Customer | undefined>;
  /**
   * The refunds of a charge: pass `(chargeId) => stripe.refunds.list({ charge: chargeId })` (a
   * Stripe list or an array of Refunds). On API versions 2022-11-15 to 2024-09-30 a
   * `charge.refunded` event lists no refunds, and Stripe sent `refund.created` only for refunds
   * without a charge: with this lookup, such an event becomes one item per succeeded refund,
   * keyed by its `re_` id, so a later `refund.created` for the same refund is a replay. Called
   * only for `charge.refunded` events whose refunds are not all in the event, and only for the
   * vendors that take an amount (Affonso, FirstPromoter).
   */
  listRefunds?: (chargeId: string) => unknown;
  /**
   * The disputed charge: pass `(chargeId) => stripe.charges.retrieve(chargeId)`. Affixo and
   * RefCampaign can only reverse a whole conversion, so a dispute is sent to them only when it
   * covers the whole charge, which a dispute event tells only with its `charge` expanded.
   * Called only for those two vendors, for disputes whose charge is not expanded.
   */
  retrieveCharge?: (chargeId: string) => unknown;
}

/**
 * One refund for `refundMany()`. `refundId` is the Stripe id the refund stands for (`re_…`, or
 * `dp_…` for a dispute, or `ch_…` for an Affixo reversal of a fully refunded charge), so
 * `refundMany`'s derived key survives Stripe's redeliveries: the same event twice is a replay at
 * the vendor, and two equal partial refunds are two refunds.
 */
export interface StripeRefundItem<P extends RefundProvider = RefundProvider> {
  provider: P;
  conversionId: string;
  /** Omitted for a full reversal (Affixo; a RefCampaign refund of the whole charge or a dispute of it). */
  amount?: Money;
  refundId: string;
  /** "Stripe refund re_… (requested_by_customer)": only for vendors that record a reason (Affonso, RefCampaign). */
  reason?: string;
  /** When Stripe created the refund or dispute: only for Affonso (`refunded_at`). */
  refundedAt?: string;
  customer?: Customer;
}

/** What a Stripe event turns into: `items` for `refundMany()`, and what was `skipped`, each with its reason. */
export interface StripeEventRefunds<P extends RefundProvider = RefundProvider> {
  items: StripeRefundItem<P>[];
  skipped: StripeSkipped[];
}

/** The vendors whose refund call records a reason, and a refund date: clawback sends them no field the vendor drops. */
const TAKES_REASON: ReadonlySet<ProviderName> = new Set(['affonso', 'refcampaign']);
const TAKES_DATE: ReadonlySet<ProviderName> = new Set(['affonso']);

const LOOKUPS: readonly StripeLookup[] = ['listRefunds', 'retrieveCharge'];

/**
 * The refunds a verified Stripe event asks for, as `refundMany()` items, and what it does not
 * turn into a refund, with why. Handles `refund.created`, `refund.updated`,
 * `refund.failed`, `charge.refund.updated`, `charge.refunded`, `charge.dispute.created`,
 * `charge.dispute.funds_withdrawn` and `charge.dispute.closed` (a skip: a reversal is never
 * undone); any other type gives one skip and no items. The lookups are called only for
 * refunds that will become items.
 *
 * Synchronous, like `stripe.webhooks.constructEvent`; for lookups that return promises (a
 * database query), and for asking Stripe what an event leaves out (`listRefunds`,
 * `retrieveCharge`), `refundsFromStripeEventAsync`. Throws `ValidationError` when the event is not
 * a Stripe event of the documented shape (naming the field), or a lookup returns something other
 * than what it must.
 */
export function refundsFromStripeEvent<P extends RefundProvider>(event: unknown, options: StripeEventOptions<P>): StripeEventRefunds<P> {
  const asked = LOOKUPS.find((lookup) => (options as unknown as Record<string, unknown> | undefined)?.[lookup] !== undefined);
  if (asked) {
    throw new ValidationError([{ path: asked, message: `asks Stripe, which answers asynchronously: pass it to refundsFromStripeEventAsync` }], {
      context: 'Invalid refundsFromStripeEvent() options',
    });
  }
  const prepared = prepare(event, options, 'refundsFromStripeEvent');
  for (const step of prepared.steps) {
    for (const candidate of isNeed(step) ? unanswered(step, prepared.skipped) : [step]) {
      const id = notAPromise(prepared.conversionId(candidate.source), 'conversionId');
      add(prepared, candidate, id, prepared.needsLead ? notAPromise(prepared.customer?.(candidate.source), 'customer') : undefined);
    }
  }
  // The items carry the caller's own provider object, so their type is the caller's P.
  return { items: prepared.items as StripeRefundItem<P>[], skipped: prepared.skipped };
}

/**
 * `refundsFromStripeEvent` for lookups that may return promises, and with `listRefunds` and
 * `retrieveCharge` to ask Stripe what an event leaves out: resolves to the same `{ items, skipped }`.
 */
export async function refundsFromStripeEventAsync<P extends RefundProvider>(event: unknown, options: StripeEventAsyncOptions<P>): Promise<StripeEventRefunds<P>> {
  const prepared = prepare(event, options, 'refundsFromStripeEventAsync');
  for (const step of prepared.steps) {
    const lookup = isNeed(step) ? prepared.lookups[step.lookup] : undefined;
    const candidates = !isNeed(step) ? [step] : lookup ? step.resume(await lookup(step.chargeId), prepared.skipped) : unanswered(step, prepared.skipped);
    for (const candidate of candidates) {
      const id = await prepared.conversionId(candidate.source);
      add(prepared, candidate, id, prepared.needsLead ? await prepared.customer?.(candidate.source) : undefined);
    }
  }
  return { items: prepared.items as StripeRefundItem<P>[], skipped: prepared.skipped };
}

/** What an event allows without the lookup it needs, and the skip that names the lookup. */
function unanswered(need: Need, skipped: StripeSkipped[]): Candidate[] {
  skipped.push({ reason: need.skip });
  return need.without?.(skipped) ?? [];
}

interface Prepared {
  call: string;
  provider: RefundProvider;
  conversionId: StripeEventAsyncOptions['conversionId'];
  customer: StripeEventAsyncOptions['customer'];
  lookups: Partial<Record<StripeLookup, (chargeId: string) => unknown>>;
  /** FirstPromoter needs the lead; no other vendor is asked for it. */
  needsLead: boolean;
  steps: Step[];
  items: StripeRefundItem[];
  skipped: StripeSkipped[];
}

function prepare(event: unknown, options: StripeEventAsyncOptions, call: string): Prepared {
  const { provider, conversionId, customer, listRefunds, retrieveCharge } = parseInput(optionsSchema, options, `Invalid ${call}() options`);
  const { type, data } = parseInput(stripeEventSchema, event, 'Invalid Stripe event');
  const skipped: StripeSkipped[] = [];
  const steps = plan(type, data.object, planVendor(provider.provider, provider.ledger !== undefined), skipped);
  return {
    call,
    provider,
    conversionId,
    customer,
    lookups: { listRefunds, retrieveCharge },
    needsLead: provider.provider === 'firstpromoter',
    steps,
    items: [],
    skipped,
  };
}

function notAPromise<T>(value: T | Promise<T>, path: string): T {
  if (typeof (value as { then?: unknown } | null | undefined)?.then === 'function') {
    throw new ValidationError(
      [{ path, message: 'returned a promise: refundsFromStripeEvent is synchronous; for a lookup that queries a database, call refundsFromStripeEventAsync' }],
      { context: 'refundsFromStripeEvent()' },
    );
  }
  return value as T;
}

/** One candidate, its lookups done: an item, or a skip. */
function add(prepared: Prepared, candidate: Candidate, id: unknown, found: unknown): void {
  const { provider, call } = prepared;
  if (id === undefined) {
    prepared.skipped.push({ reason: `${candidate.label}: conversionId() found no conversion for it, so there is no commission to reverse` });
    return;
  }
  if (typeof id !== 'string' || id.trim() === '') {
    throw new ValidationError([{ path: 'conversionId', message: `must return a conversion id or undefined, returned ${JSON.stringify(id) ?? typeof id}` }], {
      context: `${call}()`,
    });
  }
  let lead: Customer | undefined;
  if (prepared.needsLead) {
    if (found === undefined) {
      prepared.skipped.push({
        reason: `${candidate.label}: FirstPromoter needs the lead whose commission is reversed; ${prepared.customer ? 'customer() returned undefined' : 'pass customer: (source) => ({ email }) or ({ uid })'}`,
      });
      return;
    }
    const issues: ValidationIssue[] = [];
    lead = validateField(customerSchema, found, 'customer', issues);
    if (!lead) throw new ValidationError(issues, { context: `${call}(): customer() returned an invalid lead`, provider: 'firstpromoter' });
  }
  prepared.items.push({
    provider,
    conversionId: id,
    ...(candidate.amount && { amount: candidate.amount }),
    refundId: candidate.refundId,
    ...(TAKES_REASON.has(provider.provider) && { reason: candidate.reason }),
    ...(TAKES_DATE.has(provider.provider) && candidate.created !== undefined && { refundedAt: new Date(candidate.created * 1000).toISOString() }),
    ...(lead && { customer: lead }),
  });
}

/** Unknown keys are kept, as they always were here: only the ones read are checked. */
const optionsSchema = looseObject(
  {
    provider: providerSchema,
    conversionId: functionSchema<StripeEventAsyncOptions['conversionId']>(),
    customer: optional(functionSchema<StripeEventAsyncOptions['customer']>()),
    listRefunds: optional(functionSchema<(chargeId: string) => unknown>()),
    retrieveCharge: optional(functionSchema<(chargeId: string) => unknown>()),
  },
  { error: expected('an options object { provider, conversionId }') },
);
