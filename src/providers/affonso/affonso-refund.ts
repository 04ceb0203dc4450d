import type { ValidationIssue } from '../../core/errors.js';
import { toMajorUnitsNumber } from '../../core/money.js';
import { assertRefundable, unsupportedOptionWarnings } from '../../core/refund-call.js';
import { validateField } from '../../core/validation.js';
import type { RefundCall, RefundResult, RefundStatus } from '../../spec/refund-provider-v1.js';
import type { AffonsoSend } from './affonso-provider.js';
import { affonsoConversionIdSchema } from './affonso-schemas.js';

const notSent = { customer: 'Affonso identifies the conversion by its id alone' };

/** Affonso reports the conversion's state after the refund in `sales_status`. */
function statusFromSalesStatus(salesStatus: string | undefined): RefundStatus {
  if (salesStatus === 'refunded') return 'refunded';
  if (salesStatus === 'partial_refunded') return 'partially_refunded';
  return 'accepted';
}

/**
 * `refund()` on Affonso: `conversionId` → the `{id}` path segment, the amount in major units
 * (via the currency's ISO 4217 exponent), the idempotency key → `external_event_id`.
 */
export async function refundWithAffonso(call: RefundCall, send: AffonsoSend): Promise<RefundResult> {
  const issues: ValidationIssue[] = [];
  validateField(affonsoConversionIdSchema, call.conversionId, 'conversionId', issues);
  let amount: number | undefined;
  if (call.amount) {
    amount = toMajorUnitsNumber(call.amount.value, call.amount.currency);
    if (amount === undefined) {
      issues.push({
        path: 'amount.value',
        message: `is too large for Affonso: it takes major units as a JSON number, which cannot carry ${call.amount.value} ${call.amount.currency} minor units exactly`,
      });
    }
  }
  assertRefundable(issues, 'Affonso', 'affonso');
  const warnings = unsupportedOptionWarnings(call, notSent);

  const { data, response } = await send(
    call.conversionId,
    {
      ...(amount === undefined ? {} : { amount, currency: call.amount?.currency }),
      ...(call.reason === undefined ? {} : { reason: call.reason }),
      external_event_id: call.idempotencyKey,
      ...(call.refundedAt === undefined ? {} : { refunded_at: call.refundedAt }),
    },
    call,
  );
  const conversion = data.data;
  // The page shows sales_status in its example only: without it the refund is still applied.
  if (conversion.sales_status === undefined) {
    warnings.push("data.sales_status was not in Affonso's answer, so whether anything is left to refund is not known");
  }
  return {
    provider: 'affonso',
    conversionId: call.conversionId,
    status: statusFromSalesStatus(conversion.sales_status),
    duplicate: conversion.replayed === true,
    idempotencyKey: call.idempotencyKey,
    ...(call.amount === undefined ? {} : { amount: call.amount }),
    ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
    warnings,
    raw: response.body,
  };
}
