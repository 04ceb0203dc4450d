import type { RefundLedger } from '../core/ledger.js';

/**
 * The contract every provider implements. Users call `refund()`; `refund()` validates the
 * unified options, fixes the idempotency key, and hands a `RefundCall` to `doRefund()`.
 */

export type ProviderName = 'affixo' | 'affonso' | 'refcampaign' | 'firstpromoter';

/** An amount in integer minor units of an ISO 4217 currency: `{ value: 4950, currency: 'USD' }` is USD 49.50. */
export interface Money {
  value: number;
  currency: string;
}

/** The customer (FirstPromoter "lead") whose commission is reversed. */
export interface Customer {
  email?: string;
  uid?: string;
}

/** Options that reach one provider's own slice of `providerOptions`. */
export interface FirstPromoterRefundOptions {
  /** Number of subscriptions or items refunded (sent as `quantity`). */
  quantity?: number;
  /** Sent as `skip_email_notification`. */
  skipEmailNotification?: boolean;
}

/** Options only one vendor has, under its name: `{ firstpromoter: { quantity?, skipEmailNotification? } }`. */
export interface ProviderOptions {
  firstpromoter?: FirstPromoterRefundOptions;
}

/** Per-call transport options, accepted by `refund()` and by every native call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds (default: the provider's, 30 000). */
  timeout?: number;
  /** Retries after a failure that is safe to retry (default: the provider's, 2). */
  maxRetries?: number;
  /** Overall limit in milliseconds: attempts, retry waits and rate-limit waits together (default: the provider's, none). */
  totalTimeout?: number;
  /** Extra headers for this call, added to the provider's `headers` (same rules: the credentials stay clawback's). */
  headers?: Record<string, string>;
}

/** `refunded`: nothing is left to refund; `partially_refunded`: some is; `accepted`: the vendor took the refund without saying what is left. */
export type RefundStatus = 'refunded' | 'partially_refunded' | 'accepted';

/** The commission change a vendor reported, in minor units (negative: clawed back). */
export interface CommissionChange {
  /** Signed change in minor units; negative when commission was clawed back. */
  value: number;
  /** ISO 4217 code, when the vendor names it (FirstPromoter reports in the account's currency without naming it). */
  currency?: string;
}

/** What `refund()` resolves to once the vendor has accepted the refund (or had already applied it: `duplicate: true`). */
export interface RefundResult {
  provider: ProviderName;
  conversionId: string;
  /**
   * What the vendor confirmed: `refunded` (nothing left to refund), `partially_refunded`,
   * or `accepted` (the vendor recorded the refund without reporting the conversion's state).
   */
  status: RefundStatus;
  /** The vendor says this refund had already been recorded (a replay), so nothing moved this time. */
  duplicate: boolean;
  /** The key this call used on every attempt; reuse it to retry the same refund. */
  idempotencyKey: string;
  /**
   * The refunded amount when known: the amount asked for, once the vendor accepted it. Absent
   * for a full refund the vendor did not size, and when RefCampaign says it was already refunded.
   */
  amount?: Money;
  /** The commission change, when the vendor reports it. */
  commission?: CommissionChange;
  requestId?: string;
  /** Options the vendor cannot honour and that were therefore not sent (e.g. `reason` on Affixo). */
  warnings: string[];
  /** The vendor's response body, as received. */
  raw: unknown;
}

/** What `doRefund()` receives: `refund()`'s options, validated and normalised. */
export interface RefundCall extends CallOptions {
  conversionId: string;
  /** Currency upper-cased and known to ISO 4217. */
  amount?: Money;
  reason?: string;
  /** ISO 8601 in UTC (`2026-06-22T16:10:00.000Z`). */
  refundedAt?: string;
  customer?: Customer;
  idempotencyKey: string;
  /** True when `refund()` made the key up, false when the caller supplied it. */
  idempotencyKeyGenerated: boolean;
  providerOptions?: ProviderOptions;
}

/** The interface every provider implements, version 1: what `refund()` and `refundMany()` call. */
export interface RefundProviderV1<Name extends ProviderName = ProviderName> {
  readonly specificationVersion: 'v1';
  readonly provider: Name;
  /** The refund ledger this provider sends through, when it was given one. */
  readonly ledger?: RefundLedger | undefined;
  /** Called by `refund()`; use `refund()` instead of calling this directly. */
  doRefund(call: RefundCall): Promise<RefundResult>;
}
