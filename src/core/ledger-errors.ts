import { ClawbackError, registerErrorClass, type ClawbackErrorDetails } from './errors.js';

// The errors only a ledger gives. In a module of their own: their classes register themselves
// when loaded, so in errors.ts every bundle would carry them.

/**
 * The refund ledger could not be reached within the call's time budget (or answered after it):
 * nothing was sent. Retryable, not ambiguous: a webhook handler answers 500 and the event comes
 * again, by when the store may be back.
 */
export class LedgerUnavailableError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'LedgerUnavailableError');
}

/**
 * Another process holds this refund in the ledger and did not finish within this call's time
 * budget: nothing was sent by this call. Retryable, not ambiguous: call again with the same key
 * later (a webhook handler answers 500, and the redelivery finds the outcome).
 */
export class RefundInProgressError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'RefundInProgressError');
}

/**
 * The ledger says an earlier send of this refund may have been applied, and the vendor cannot
 * tell a repeat (a RefCampaign partial refund): nothing was sent, and nothing will be for this key
 * until an operator settles it with `clawback ledger resolve <ledgerId> --applied | --not-applied`.
 * Ambiguous, not retryable.
 */
export class UnsettledRefundError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'UnsettledRefundError');
  /** The entry to settle, as `clawback ledger list` prints it. */
  readonly ledgerId: string;

  constructor(message: string, details: ClawbackErrorDetails & { ledgerId: string }) {
    super(message, details);
    this.ledgerId = details.ledgerId;
  }
}
