import * as z from 'zod/mini';
import { ConflictError, type ValidationIssue } from '../../core/errors.js';
import { currencyExponent } from '../../core/money.js';
import { assertRefundable, unsupportedOptionWarnings } from '../../core/refund-call.js';
import { integer, optional, strictObject, validateField } from '../../core/validation.js';
import type { RefundCall, RefundResult } from '../../spec/refund-provider-v1.js';
import { isReplayOf, type FirstPromoterSend } from './firstpromoter-provider.js';

const firstPromoterOptionsSchema = strictObject(
  {
    quantity: optional(
      integer('must be a whole number').check(z.positive('must be greater than zero')),
    ),
    skipEmailNotification: optional(z.boolean({ error: 'must be a boolean' })),
  },
  { error: 'must be an object like { quantity?, skipEmailNotification? }' },
);

const notSent = {
  reason: "FirstPromoter's refund call has no reason field",
  refundedAt: "FirstPromoter's refund call has no refund date field",
};

/**
 * `refund()` on FirstPromoter: the idempotency key → `event_id`, `conversionId` →
 * `sale_event_id`, the amount → a string of minor units ("cents"), the customer → `email` | `uid`.
 */
export async function refundWithFirstPromoter(call: RefundCall, send: FirstPromoterSend): Promise<RefundResult> {
  const issues: ValidationIssue[] = [];
  if (call.amount === undefined) {
    issues.push({
      path: 'amount',
      message:
        'is required for FirstPromoter: its refund call needs the amount in cents and has no "refund the remaining balance"',
    });
  } else if (![0, 2].includes(currencyExponent(call.amount.currency) ?? -1)) {
    // FirstPromoter documents "cents", and whole units for zero-decimal currencies; it says
    // nothing of three- or four-decimal currencies, where a wrong guess refunds 10x too much or
    // too little. https://docs.firstpromoter.com/api-reference-v2/api-admin/tracking-api/refund
    issues.push({
      path: 'amount.currency',
      message: `is ${call.amount.currency}, whose minor unit is not a cent: FirstPromoter does not document how to send it, so clawback will not guess. Use firstpromoter.track.refund() with the amount your FirstPromoter account expects`,
    });
  }
  const { email, uid } = call.customer ?? {};
  if ((email === undefined) === (uid === undefined)) {
    issues.push({
      path: 'customer',
      message:
        email === undefined
          ? 'is required for FirstPromoter: give customer.email or customer.uid of the lead'
          : 'must have exactly one of email or uid for FirstPromoter (its API takes one of them)',
    });
  }
  const options = validateField(
    firstPromoterOptionsSchema,
    call.providerOptions?.firstpromoter ?? {},
    'providerOptions.firstpromoter',
    issues,
  );
  assertRefundable(issues, 'FirstPromoter', 'firstpromoter');

  const warnings = unsupportedOptionWarnings(call, notSent);
  const amount = call.amount as NonNullable<RefundCall['amount']>;
  const body = {
    event_id: call.idempotencyKey,
    amount: String(amount.value),
    // Always named, even when it is the account's default: FirstPromoter converts from it, and
    // an omitted currency would be read as the account's, whatever was meant.
    currency: amount.currency,
    sale_event_id: call.conversionId,
    ...(email === undefined ? { uid: uid as string } : { email }),
    ...(options?.quantity === undefined ? {} : { quantity: String(options.quantity) }),
    ...(options?.skipEmailNotification === undefined ? {} : { skip_email_notification: options.skipEmailNotification }),
  };

  const base = {
    provider: 'firstpromoter' as const,
    conversionId: call.conversionId,
    status: 'accepted' as const,
    idempotencyKey: call.idempotencyKey,
    amount,
    warnings,
  };
  try {
    const { data, response } = await send(body, call);
    const reward = data.reward;
    // The document promises no field of the 200: without a reward the refund is still recorded.
    const unreported = reward == null ? ["reward was not in FirstPromoter's answer, so the commission change is not known"] : [];
    return {
      ...base,
      warnings: [...warnings, ...unreported],
      duplicate: false,
      ...(reward?.unit === 'cash' && reward.amount !== undefined ? { commission: { value: reward.amount } } : {}),
      ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
      raw: response.body,
    };
  } catch (error) {
    // 409 on our own event_id: this refund is already recorded (by an earlier call with the
    // same key, or by an attempt of this call whose answer was lost).
    if (ConflictError.isInstance(error) && isReplayOf(error, call.idempotencyKey)) {
      return {
        ...base,
        duplicate: true,
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
        raw: error.body,
      };
    }
    throw error;
  }
}
