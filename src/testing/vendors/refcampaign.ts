// Emulates POST https://app.refcampaign.com/api/v1/conversions/refund
// https://docs.refcampaign.com/docs/api/reference/conversions/postConversionsRefund
// https://docs.refcampaign.com/docs/error-handling
import { bearerToken, checkRate, readJson, reply, secondsUntil, type Reply, type VendorContext } from './shared.js';

function envelope(context: VendorContext) {
  return { timestamp: new Date().toISOString(), requestId: context.nextRequestId() };
}

function failure(context: VendorContext, status: number, code: string, message: string, details: unknown = null): Reply {
  return reply(status, { success: false, error: { code, message, details }, meta: envelope(context) });
}

export async function refCampaignRefund(context: VendorContext, request: Request): Promise<Reply> {
  const key = bearerToken(request);
  // RefCampaign documents 429 RATE_LIMIT_EXCEEDED and "honour Retry-After", not the limit itself [?].
  const rate = checkRate(context, 'refcampaign', key ?? 'anonymous');
  if (rate && !rate.allowed) {
    return {
      ...failure(context, 429, 'RATE_LIMIT_EXCEEDED', 'Too many requests'),
      headers: { 'retry-after': String(secondsUntil(rate.resetAt)) },
    };
  }
  if (key === undefined || !context.keys.refcampaign.has(key)) {
    return failure(context, 401, 'UNAUTHORIZED', 'Missing or invalid API key');
  }

  const body = await readJson(request);
  if (body === 'invalid') return failure(context, 400, 'INVALID_REQUEST', 'Request body must be JSON');
  const { externalId, amount } = body.value;
  const issues: Array<{ path: string; message: string }> = [];
  if (typeof externalId !== 'string' || externalId.length < 1 || externalId.length > 255) {
    issues.push({ path: 'externalId', message: 'must be a string of 1 to 255 characters' });
  }
  if (amount !== undefined && (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0)) {
    // "A decimal amount is rejected": integer minor units only.
    issues.push({ path: 'amount', message: 'must be a positive integer of minor units' });
  }
  if (issues.length > 0) return failure(context, 400, 'VALIDATION_FAILED', 'Invalid request body', issues);

  const conversion = typeof externalId === 'string' ? context.ledger.live('refcampaign', externalId) : undefined;
  if (!conversion) return failure(context, 404, 'NOT_FOUND', `No conversion with externalId ${String(externalId)}`);
  // "Pending commissions are rejected" — with 409 "not refundable (status: PENDING)" in
  // @refcampaign/sdk; the code for this case is not documented [?].
  if (conversion.commissionStatus === 'pending') {
    return failure(context, 409, 'CONFLICT', 'Conversion not refundable (status: PENDING)');
  }

  const remaining = conversion.sale.value - conversion.refunded;
  const ok = (alreadyRefunded: boolean, message: string) =>
    reply(200, {
      success: true,
      data: { success: true, conversionId: conversion.vendorId, alreadyRefunded, message },
      meta: envelope(context),
    });
  // "A second call on an already-refunded conversion is a no-op."
  if (remaining === 0) return ok(true, 'Conversion already refunded');
  if (typeof amount === 'number' && amount > remaining) {
    return failure(context, 400, 'VALIDATION_FAILED', 'amount exceeds the refundable remainder', [
      { path: 'amount', message: `at most ${remaining}` },
    ]);
  }
  // A partial refund carries no key: every call applies it again. Paid commissions get a
  // prorated negative clawback, which the ledger records as the commission change.
  context.ledger.applyRefund(conversion, typeof amount === 'number' ? amount : remaining);
  return ok(false, 'Refund recorded');
}
