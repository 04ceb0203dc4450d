import { parseInput } from '../core/validation.js';
import type { Money, ProviderName } from '../spec/refund-provider-v1.js';
import { fromStripeAmount } from './stripe-money.js';
import {
  chargeSummarySchema,
  stripeChargeSchema,
  stripeDisputeSchema,
  stripeRefundListSchema,
  stripeRefundSchema,
  type StripeCharge,
  type StripeChargeSummary,
  type StripeDispute,
  type StripeRefund,
} from './stripe-schemas.js';

// What one Stripe event asks of one vendor: refunds to send (candidates, before the merchant's
// lookups), things it cannot do (skips, with why), and facts the event does not carry that a
// lookup of the merchant's can supply (needs: the async form asks, the sync form skips).

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

/** Something in the event that is not turned into a refund, and why, in words a merchant can act on. */
export interface StripeSkipped {
  reason: string;
}

/** A refund the event asks for, before the merchant's lookups. */
export interface Candidate {
  source: StripeSource;
  refundId: string;
  amount?: Money;
  reason: string;
  created: number | undefined;
  /** The Stripe object named in a skip reason. */
  label: string;
}

/** The Stripe lookups the async form takes: each answers what an event leaves out. */
export type StripeLookup = 'listRefunds' | 'retrieveCharge';

/**
 * A fact the event does not carry: the async form looks it up (`lookup(chargeId)`) and resumes;
 * without the lookup, `skip` says why, and `without` gives what the event alone allows.
 */
export interface Need {
  lookup: StripeLookup;
  chargeId: string;
  skip: string;
  without?: (skipped: StripeSkipped[]) => Candidate[];
  resume(found: unknown, skipped: StripeSkipped[]): Candidate[];
}

export type Step = Candidate | Need;
export const isNeed = (step: Step): step is Need => 'lookup' in step;

const REFUND_EVENTS = new Set(['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated']);
const DISPUTE_EVENTS = new Set(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);

const idOf = (reference: string | { id: string } | null | undefined): string | undefined =>
  reference == null ? undefined : typeof reference === 'string' ? reference : reference.id;

/**
 * The vendors that get a full refund once a charge is refunded in full, and nothing for a partial
 * refund, and why: Affixo always, RefCampaign unless its provider has a ledger (which sends each
 * refund's key once, so its partial refunds can be sent like Affonso's).
 */
type WholeOnly = 'affixo' | 'refcampaign';
export interface PlanVendor {
  name: ProviderName;
  wholeOnly: boolean;
}
export const planVendor = (name: ProviderName, ledgered: boolean): PlanVendor => ({ name, wholeOnly: name === 'affixo' || (name === 'refcampaign' && !ledgered) });
const WHOLE_ONLY_WHY: Record<WholeOnly, string> = {
  affixo: 'Affixo reverses whole conversions only (nothing is sent for a partial refund)',
  refcampaign:
    'RefCampaign partial refunds carry no idempotency key, so a redelivered event (or this one handled twice) would claw back twice: a partial refund is not sent. Give createRefCampaign() a ledger (which sends each refund key once), and clawback sends partial refunds keyed by their re_ ids; or send it once yourself with refund({ provider, conversionId, amount }) and record that you did, or let RefCampaign record Stripe refunds through its own Stripe integration',
};

const ASYNC_HINT = 'refundsFromStripeEventAsync';

/** What the event asks for, per the provider's rules; what it cannot do goes to `skipped`. */
export function plan(type: string, object: unknown, vendor: PlanVendor, skipped: StripeSkipped[]): Step[] {
  if (REFUND_EVENTS.has(type)) {
    const refund = parseInput(stripeRefundSchema, object, `Invalid Stripe ${type} event: data.object`);
    const charge = typeof refund.charge === 'object' && refund.charge !== null ? refund.charge : undefined;
    const source = sourceOf(type, refund, idOf(refund.charge), refund.payment_intent);
    return fromRefund(refund, charge, { ...source, refundId: refund.id }, vendor, skipped, type);
  }
  if (type === 'charge.refunded') {
    const charge = parseInput(stripeChargeSchema, object, `Invalid Stripe ${type} event: data.object`);
    const source = sourceOf(type, charge, charge.id, charge.payment_intent);
    if (vendor.wholeOnly) return fromFullyRefundedCharge(charge, source, vendor, skipped);
    return fromRefundedCharge(charge, source, vendor, skipped, type);
  }
  if (DISPUTE_EVENTS.has(type)) {
    const dispute = parseInput(stripeDisputeSchema, object, `Invalid Stripe ${type} event: data.object`);
    return fromDispute(dispute, { ...sourceOf(type, dispute, idOf(dispute.charge), dispute.payment_intent), disputeId: dispute.id }, vendor, skipped);
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

/**
 * `charge.refunded` for a vendor that takes an amount: one refund per succeeded refund of the
 * charge, keyed by its `re_` id. On API versions from 2022-11-15 the charge lists no refunds
 * (and until 2024-10-28.acacia Stripe sent `refund.created` only for refunds without a charge), so
 * they come from the merchant's `listRefunds`.
 */
function fromRefundedCharge(charge: StripeCharge, source: StripeSource, vendor: PlanVendor, skipped: StripeSkipped[], type: string): Step[] {
  const fromList = (refunds: readonly StripeRefund[], skips: StripeSkipped[]) =>
    refunds.flatMap((refund) => fromRefund(refund, charge, { ...source, refundId: refund.id }, vendor, skips, type));
  const listed = charge.refunds;
  if (listed && !listed.has_more) return fromList(listed.data, skipped);
  const lookup = `Pass listRefunds: (chargeId) => stripe.refunds.list({ charge: chargeId }) to ${ASYNC_HINT}`;
  return [
    {
      lookup: 'listRefunds',
      chargeId: charge.id,
      skip: listed
        ? `charge ${charge.id}: Stripe lists only the first ${listed.data.length} of its refunds in this event. ${lookup} to have them all`
        : `charge ${charge.id}: this charge.refunded event does not list the charge's refunds (Stripe API versions from 2022-11-15 leave them out), so it cannot tell which refund happened. ${lookup}, or on API versions from 2024-10-28.acacia subscribe to refund.created and refund.updated instead`,
      // Without the lookup, the refunds the event does list are still sent.
      without: (skips) => fromList(listed?.data ?? [], skips),
      resume: (found, skips) => {
        const list = refundList(found, charge.id);
        if (list.hasMore) {
          skips.push({
            reason: `charge ${charge.id}: listRefunds returned ${list.refunds.length} refunds and says there are more (has_more): return them all, e.g. stripe.refunds.list({ charge: chargeId }).autoPagingToArray({ limit: 1000 })`,
          });
        }
        return fromList(list.refunds, skips);
      },
    },
  ];
}

/** `listRefunds`' answer: a Stripe list (`{ data, has_more }`) or an array of Refunds, each validated. */
function refundList(found: unknown, chargeId: string): { refunds: StripeRefund[]; hasMore: boolean } {
  const context = `listRefunds(${JSON.stringify(chargeId)}) must return stripe.refunds.list({ charge })'s answer or an array of Refunds`;
  const list = Array.isArray(found) ? { data: found as unknown[], has_more: false } : parseInput(stripeRefundListSchema, found, context);
  const refunds = list.data.map((refund, index) => parseInput(stripeRefundSchema, refund, `${context}: refund ${index}`));
  // A refund of another charge (a lookup that ignored its argument) is never sent as this charge's.
  return { refunds: refunds.filter((refund) => idOf(refund.charge) === undefined || idOf(refund.charge) === chargeId), hasMore: list.has_more === true };
}

function fromRefund(
  refund: StripeRefund,
  charge: StripeChargeSummary | undefined,
  source: StripeSource,
  vendor: PlanVendor,
  skipped: StripeSkipped[],
  eventType: string,
): Candidate[] {
  const label = `refund ${refund.id}`;
  if (refund.status !== 'succeeded') {
    skipped.push({ reason: `${label}: ${unsettled(refund.status, eventType)}` });
    return [];
  }
  if (vendor.wholeOnly) {
    if (!charge) {
      skipped.push({
        reason: `${label}: ${WHOLE_ONLY_WHY[vendor.name as WholeOnly]}. Whether ${source.chargeId ?? 'its charge'} is now refunded in full is not in a ${eventType} event (its charge is not expanded): subscribe to charge.refunded, which clawback turns into a full refund once the charge is refunded in full`,
      });
      return [];
    }
    return fromFullyRefundedCharge(charge, source, vendor, skipped);
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
function fromFullyRefundedCharge(charge: StripeChargeSummary, source: StripeSource, vendor: PlanVendor, skipped: StripeSkipped[]): Candidate[] {
  const label = `charge ${charge.id}`;
  if (!charge.refunded) {
    skipped.push({
      reason: `${label}: ${charge.amount_refunded} of ${charge.amount} (Stripe units) refunded so far. ${WHOLE_ONLY_WHY[vendor.name as WholeOnly]}; clawback sends a full refund when the charge is refunded in full`,
    });
    return [];
  }
  return [{ source, refundId: charge.id, reason: `Stripe charge ${charge.id} refunded in full`, created: undefined, label }];
}

/**
 * A chargeback reverses the disputed amount, which Stripe says is "usually the amount of the
 * charge, but can differ (… only part of the order is disputed)" (docs.stripe.com/api/disputes/object).
 * Affonso and FirstPromoter take that amount. Affixo (whole conversions only) and RefCampaign
 * (no key for a partial) get a full reversal only for a dispute of the whole charge, which needs
 * the charge's amount: an expanded `charge`, or the merchant's `retrieveCharge`.
 */
function fromDispute(dispute: StripeDispute, source: StripeSource, vendor: PlanVendor, skipped: StripeSkipped[]): Step[] {
  const label = `dispute ${dispute.id}`;
  if (dispute.status.startsWith('warning_')) {
    skipped.push({
      reason: `${label}: an inquiry (${dispute.status}), not a chargeback: no money has left the account. If it becomes a chargeback, Stripe sends charge.dispute.funds_withdrawn, which clawback turns into the reversal`,
    });
    return [];
  }
  const reason = `Stripe dispute ${dispute.id}${dispute.reason ? ` (${dispute.reason})` : ''}`;
  const candidate: Candidate = { source, refundId: dispute.id, reason, created: dispute.created, label };
  if (!vendor.wholeOnly) {
    const money = exactAmount(dispute, label, skipped);
    return money ? [{ ...candidate, amount: money }] : [];
  }
  const whole = (charge: StripeChargeSummary, skips: StripeSkipped[]): Candidate[] => {
    if (charge.currency.toLowerCase() === dispute.currency.toLowerCase() && dispute.amount >= charge.amount) return [candidate];
    skips.push({
      reason: `${label}: disputes ${dispute.amount} ${dispute.currency} (Stripe units) of charge ${charge.id}'s ${charge.amount} ${charge.currency}, not the whole charge. ${WHOLE_ONLY_WHY[vendor.name as WholeOnly]}; a dispute of part of a charge is not sent, so reverse that part by hand`,
    });
    return [];
  };
  const charge = typeof dispute.charge === 'object' ? chargeSummarySchema.safeParse(dispute.charge) : undefined;
  if (charge?.success) return whole(charge.data, skipped);
  const chargeId = idOf(dispute.charge) as string;
  return [
    {
      lookup: 'retrieveCharge',
      chargeId,
      skip: `${label}: ${WHOLE_ONLY_WHY[vendor.name as WholeOnly]}, and whether this dispute covers the whole of charge ${chargeId} is not in the event (its charge is not expanded), so nothing is sent. Pass retrieveCharge: (chargeId) => stripe.charges.retrieve(chargeId) to ${ASYNC_HINT}`,
      resume: (found, skips) => whole(parseInput(chargeSummarySchema, found, `retrieveCharge(${JSON.stringify(chargeId)}) must return the Charge (stripe.charges.retrieve)`), skips),
    },
  ];
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
