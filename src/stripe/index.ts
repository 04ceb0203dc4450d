import { ValidationError, type ValidationIssue } from '../core/errors.js';
import { expected, functionSchema, looseObject, optional, parseInput, validateField } from '../core/validation.js';
import { customerSchema, providerSchema, type RefundProvider } from '../refund.js';
import type { Customer, Money, ProviderName } from '../spec/refund-provider-v1.js';
import { fromStripeAmount } from './stripe-money.js';
import {
  stripeChargeSchema,
  stripeDisputeSchema,
  stripeEventSchema,
  stripeRefundSchema,
  type StripeCharge,
  type StripeChargeSummary,
  type StripeDispute,
  type StripeRefund,
} from './stripe-schemas.js';

export { fromStripeAmount } from './stripe-money.js';
export { stripeChargeSchema, stripeDisputeSchema, stripeEventSchema, stripeRefundSchema } from './stripe-schemas.js';
export type { StripeCharge, StripeDispute, StripeRefund } from './stripe-schemas.js';

/** What the merchant's lookups are given: the Stripe ids of the money that moved, and the event's object. */
export interface StripeSource {
  /** The charge refunded or disputed (`ch_…`); undefined for a refund Stripe ties to no charge. */
  chargeId: string | undefined;
  /** Its PaymentIntent (`pi_…`), when it has one. */
  paymentIntentId: string | undefined;
  /** The refund (`re_…`), for refund events and each refund of `charge.refunded`. */
  refundId?: string;
  /** The dispute (`dp_…`), for dispute events. */
  disputeId?: string;
  /** The metadata of the event's object (the Refund, the Charge of `charge.refunded`, the Dispute); `{}` when none. */
  metadata: Record<string, string>;
  /** The event's object as received: a Refund, a Charge or a Dispute. */
  object: StripeRefund | StripeCharge | StripeDispute;
  /** The event's type, e.g. `refund.created`. */
  eventType: string;
}

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

/** `refundsFromStripeEventAsync`'s options: the lookups may return promises. */
export interface StripeEventAsyncOptions<P extends RefundProvider = RefundProvider> {
  provider: P;
  conversionId: (source: StripeSource) => string | undefined | Promise<string | undefined>;
  customer?: (source: StripeSource) => Customer | undefined | Promise<Customer | undefined>;
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
  /** Omitted for a full reversal (a dispute; Affixo; a RefCampaign refund of the whole charge). */
  amount?: Money;
  refundId: string;
  /** "Stripe refund re_… (requested_by_customer)": only for vendors that record a reason (Affonso, RefCampaign). */
  reason?: string;
  /** When Stripe created the refund or dispute: only for Affonso (`refunded_at`). */
  refundedAt?: string;
  customer?: Customer;
}

/** Something in the event that is not turned into a refund, and why, in words a merchant can act on. */
export interface StripeSkipped {
  reason: string;
}

export interface StripeEventRefunds<P extends RefundProvider = RefundProvider> {
  items: StripeRefundItem<P>[];
  skipped: StripeSkipped[];
}

/** A refund the event asks for, before the merchant's lookups. */
interface Candidate {
  source: StripeSource;
  refundId: string;
  amount?: Money;
  reason: string;
  created: number | undefined;
  /** The Stripe object named in a skip reason. */
  label: string;
}

const REFUND_EVENTS = new Set(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated']);
const DISPUTE_EVENTS = new Set(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);

const idOf = (reference: string | { id: string } | null | undefined): string | undefined =>
  reference == null ? undefined : typeof reference === 'string' ? reference : reference.id;

/** The vendors whose refund call records a reason, and a refund date: clawback sends them no field the vendor drops. */
const TAKES_REASON: ReadonlySet<ProviderName> = new Set(['affonso', 'refcampaign']);
const TAKES_DATE: ReadonlySet<ProviderName> = new Set(['affonso']);

/** The vendors that get a full refund once a charge is refunded in full, and nothing for a partial refund, and why. */
type WholeOnly = 'affixo' | 'refcampaign';
const WHOLE_ONLY: ReadonlySet<ProviderName> = new Set<WholeOnly>(['affixo', 'refcampaign']);
const WHOLE_ONLY_WHY: Record<WholeOnly, string> = {
  affixo: 'Affixo reverses whole conversions only (nothing is sent for a partial refund)',
  refcampaign:
    'RefCampaign partial refunds carry no idempotency key, so a redelivered event (or this one handled twice) would claw back twice: a partial refund is not sent. To reverse one, send it once yourself with refund({ provider, conversionId, amount }) and record that you did, or let RefCampaign record Stripe refunds through its own Stripe integration',
};

/**
 * The refunds a verified Stripe event asks for, as `refundMany()` items, and what it does not
 * turn into a refund, with why. Handles `refund.created`, `refund.updated`,
 * `refund.failed`, `charge.refund.updated`, `charge.refunded`, `charge.dispute.created`,
 * `charge.dispute.funds_withdrawn` and `charge.dispute.closed` (a skip: a reversal is never
 * undone); any other type gives one skip and no items. The lookups are called only for
 * refunds that will become items.
 *
 * Synchronous, like `stripe.webhooks.constructEvent`; for lookups that return promises (a
 * database query), `refundsFromStripeEventAsync`. Throws `ValidationError` when the event is not
 * a Stripe event of the documented shape (naming the field), or a lookup returns something other
 * than what it must.
 */
export function refundsFromStripeEvent<P extends RefundProvider>(event: unknown, options: StripeEventOptions<P>): StripeEventRefunds<P> {
  const prepared = prepare(event, options, 'refundsFromStripeEvent');
  for (const candidate of prepared.candidates) {
    const id = notAPromise(prepared.conversionId(candidate.source), 'conversionId');
    add(prepared, candidate, id, prepared.needsLead ? notAPromise(prepared.customer?.(candidate.source), 'customer') : undefined);
  }
  // The items carry the caller's own provider object, so their type is the caller's P.
  return { items: prepared.items as StripeRefundItem<P>[], skipped: prepared.skipped };
}

/** `refundsFromStripeEvent` for lookups that may return promises: resolves to the same `{ items, skipped }`. */
export async function refundsFromStripeEventAsync<P extends RefundProvider>(event: unknown, options: StripeEventAsyncOptions<P>): Promise<StripeEventRefunds<P>> {
  const prepared = prepare(event, options, 'refundsFromStripeEventAsync');
  for (const candidate of prepared.candidates) {
    const id = await prepared.conversionId(candidate.source);
    add(prepared, candidate, id, prepared.needsLead ? await prepared.customer?.(candidate.source) : undefined);
  }
  return { items: prepared.items as StripeRefundItem<P>[], skipped: prepared.skipped };
}

interface Prepared {
  call: string;
  provider: RefundProvider;
  conversionId: StripeEventAsyncOptions['conversionId'];
  customer: StripeEventAsyncOptions['customer'];
  /** FirstPromoter needs the lead; no other vendor is asked for it. */
  needsLead: boolean;
  candidates: Candidate[];
  items: StripeRefundItem[];
  skipped: StripeSkipped[];
}

function prepare(event: unknown, options: StripeEventAsyncOptions, call: string): Prepared {
  const { provider, conversionId, customer } = parseInput(optionsSchema, options, `Invalid ${call}() options`);
  const { type, data } = parseInput(stripeEventSchema, event, 'Invalid Stripe event');
  const skipped: StripeSkipped[] = [];
  const candidates = plan(type, data.object, provider.provider, skipped);
  return { call, provider, conversionId, customer, needsLead: provider.provider === 'firstpromoter', candidates, items: [], skipped };
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

/** Unknown keys are kept, as they always were here: only the three read are checked. */
const optionsSchema = looseObject(
  {
    provider: providerSchema,
    conversionId: functionSchema<StripeEventAsyncOptions['conversionId']>(),
    customer: optional(functionSchema<StripeEventAsyncOptions['customer']>()),
  },
  { error: expected('an options object { provider, conversionId }') },
);

/** What the event asks for, per the provider's rules; what it cannot do goes to `skipped`. */
function plan(type: string, object: unknown, provider: ProviderName, skipped: StripeSkipped[]): Candidate[] {
  if (REFUND_EVENTS.has(type)) {
    const refund = parseInput(stripeRefundSchema, object, `Invalid Stripe ${type} event: data.object`);
    const charge = typeof refund.charge === 'object' && refund.charge !== null ? refund.charge : undefined;
    const source = sourceOf(type, refund, idOf(refund.charge), refund.payment_intent);
    return fromRefund(refund, charge, { ...source, refundId: refund.id }, provider, skipped, type);
  }
  if (type === 'charge.refunded') {
    const charge = parseInput(stripeChargeSchema, object, `Invalid Stripe ${type} event: data.object`);
    const source = sourceOf(type, charge, charge.id, charge.payment_intent);
    if (WHOLE_ONLY.has(provider)) return fromFullyRefundedCharge(charge, source, provider, skipped);
    if (!charge.refunds) {
      skipped.push({
        reason: `charge ${charge.id}: this charge.refunded event does not list the charge's refunds (Stripe API versions from 2022-11-15 leave them out), so it cannot tell which refund happened. Subscribe to refund.created and refund.updated instead (and this event can be left out)`,
      });
      return [];
    }
    const candidates = charge.refunds.data.flatMap((refund) => fromRefund(refund, charge, { ...source, refundId: refund.id }, provider, skipped, type));
    if (charge.refunds.has_more) {
      skipped.push({
        reason: `charge ${charge.id}: Stripe lists only the first ${charge.refunds.data.length} of its refunds in this event; the others arrive as refund.created events, so subscribe to those too`,
      });
    }
    return candidates;
  }
  if (DISPUTE_EVENTS.has(type)) {
    const dispute = parseInput(stripeDisputeSchema, object, `Invalid Stripe ${type} event: data.object`);
    return fromDispute(dispute, { ...sourceOf(type, dispute, idOf(dispute.charge), dispute.payment_intent), disputeId: dispute.id }, provider, skipped);
  }
  if (type === 'charge.dispute.closed') {
    const dispute = parseInput(stripeDisputeSchema, object, `Invalid Stripe ${type} event: data.object`);
    skipped.push({
      reason: `dispute ${dispute.id}: closed as ${dispute.status}. clawback reverses a commission when the chargeback is opened and never restores one${dispute.status === 'won' ? ': if your program pays commission on a chargeback the merchant won, reinstate it at the vendor by hand' : ''}`,
    });
    return [];
  }
  skipped.push({
    reason: `clawback does not act on ${type} events; it handles refund.created, refund.updated, refund.failed, charge.refund.updated, charge.refunded, charge.dispute.created, charge.dispute.funds_withdrawn and charge.dispute.closed`,
  });
  return [];
}

function sourceOf(
  eventType: string,
  object: StripeRefund | StripeCharge | StripeDispute,
  chargeId: string | undefined,
  paymentIntent: string | { id: string } | null | undefined,
): StripeSource {
  return { chargeId, paymentIntentId: idOf(paymentIntent), metadata: { ...object.metadata }, object, eventType };
}

function fromRefund(
  refund: StripeRefund,
  charge: StripeChargeSummary | undefined,
  source: StripeSource,
  provider: ProviderName,
  skipped: StripeSkipped[],
  eventType: string,
): Candidate[] {
  const label = `refund ${refund.id}`;
  if (refund.status !== 'succeeded') {
    skipped.push({ reason: `${label}: ${unsettled(refund.status, eventType)}` });
    return [];
  }
  if (WHOLE_ONLY.has(provider)) {
    if (!charge) {
      skipped.push({
        reason: `${label}: ${WHOLE_ONLY_WHY[provider as WholeOnly]}. Whether ${source.chargeId ?? 'its charge'} is now refunded in full is not in a ${eventType} event (its charge is not expanded): subscribe to charge.refunded, which clawback turns into a full refund once the charge is refunded in full`,
      });
      return [];
    }
    return fromFullyRefundedCharge(charge, source, provider, skipped);
  }
  const money = exactAmount(refund, label, skipped);
  if (!money) return [];
  const reason = `Stripe refund ${refund.id}${refund.reason ? ` (${refund.reason})` : ''}`;
  return [{ source, refundId: refund.id, reason, created: refund.created, label, amount: money }];
}

/**
 * Affixo and RefCampaign: one full refund of the conversion, keyed by the charge, once Stripe
 * says nothing of the charge is left (`refunded: true`), however many refunds it took. Before
 * that, nothing: Affixo cannot take a partial refund, and RefCampaign cannot deduplicate one.
 */
function fromFullyRefundedCharge(charge: StripeChargeSummary, source: StripeSource, provider: ProviderName, skipped: StripeSkipped[]): Candidate[] {
  const label = `charge ${charge.id}`;
  if (!charge.refunded) {
    skipped.push({
      reason: `${label}: ${charge.amount_refunded} of ${charge.amount} (Stripe units) refunded so far. ${WHOLE_ONLY_WHY[provider as WholeOnly]}; clawback sends a full refund when the charge is refunded in full`,
    });
    return [];
  }
  return [{ source, refundId: charge.id, reason: `Stripe charge ${charge.id} refunded in full`, created: undefined, label }];
}

function fromDispute(dispute: StripeDispute, source: StripeSource, provider: ProviderName, skipped: StripeSkipped[]): Candidate[] {
  const label = `dispute ${dispute.id}`;
  if (dispute.status.startsWith('warning_')) {
    skipped.push({
      reason: `${label}: an inquiry (${dispute.status}), not a chargeback: no money has left the account. If it becomes a chargeback, Stripe sends charge.dispute.funds_withdrawn, which clawback turns into the reversal`,
    });
    return [];
  }
  const reason = `Stripe dispute ${dispute.id}${dispute.reason ? ` (${dispute.reason})` : ''}`;
  const candidate: Candidate = { source, refundId: dispute.id, reason, created: dispute.created, label };
  if (provider !== 'firstpromoter') return [candidate]; // a full reversal of what is left
  // FirstPromoter has no "refund the rest": it takes the disputed amount.
  const money = exactAmount(dispute, label, skipped);
  if (!money) return [];
  return [{ ...candidate, amount: money }];
}

/** The object's amount in ISO minor units, or undefined with the reason in `skipped` (never a rounded amount). */
function exactAmount(object: { amount: number; currency: string }, label: string, skipped: StripeSkipped[]): Money | undefined {
  const money = fromStripeAmount(object.amount, object.currency);
  if (!('problem' in money)) return money;
  skipped.push({ reason: `${label}: ${money.problem}. Reverse its commission by hand` });
  return undefined;
}

function unsettled(status: string | null | undefined, eventType: string): string {
  if (status === 'pending' || status === 'requires_action') {
    return `is ${status}, so no money has been returned yet; clawback acts on it when refund.updated (or charge.refund.updated) reports it succeeded`;
  }
  if (status === 'failed' || status === 'canceled') {
    return `${status}: nothing was refunded, so no commission is reversed${eventType === 'charge.refunded' ? '' : '. If an earlier event reported it succeeded and its commission was already reversed, clawback does not restore it: reinstate that commission at the vendor'}`;
  }
  return `has status ${JSON.stringify(status ?? null)}; clawback reverses commissions only for succeeded refunds`;
}
