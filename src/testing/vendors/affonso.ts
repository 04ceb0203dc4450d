// Emulates POST https://api.affonso.io/v1/conversions/{id}/refund
// https://docs.affonso.io/api/endpoint/conversions/refund, https://docs.affonso.io/api/rate-limits,
// https://docs.affonso.io/api/authentication
import { toMajorUnits, toMinorUnits } from '../../core/money.js';
import type { CommissionStatus, LedgerConversion } from '../ledger.js';
import type { RateDecision } from '../rate-limit.js';
import { constantTimeEqual, fromHex } from '../../core/hmac.js';
import { bearerToken, checkRate, parseJsonBody, reply, secondsUntil, type Reply, type VendorContext } from './shared.js';

const commissionStatuses: Record<CommissionStatus, string> = {
  pending: 'pending',
  approved: 'ready_for_payment',
  paid: 'paid',
  refunded: 'refunded',
};

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

const major = (minor: number, currency: string) => Number(toMajorUnits(minor, currency));

/** The conversion object Affonso returns, as documented. */
function conversionView(conversion: LedgerConversion, replayed: boolean, lastKey: string | undefined) {
  const { currency } = conversion.sale;
  return {
    id: conversion.id,
    referral_id: `ref_${conversion.vendorId}`,
    affiliate_id: 'aff_emulator',
    program_id: 'prog_emulator',
    sale_amount: major(conversion.sale.value, currency),
    sale_amount_currency: currency,
    commission_amount: major(conversion.commission, currency),
    commission_currency: currency,
    status: commissionStatuses[conversion.commissionStatus],
    sales_status:
      conversion.refunded >= conversion.sale.value ? 'refunded' : conversion.refunded > 0 ? 'partial_refunded' : 'complete',
    hold_period_days: null,
    payment_intent_id: null,
    invoice_id: null,
    earning_id: `earn_${conversion.vendorId}`,
    earning_type: 'direct_commission',
    external_event_id: lastKey ?? null,
    calculation_mode: 'auto',
    matched_incentive_id: null,
    created_at: conversion.createdAt.toISOString(),
    updated_at: conversion.updatedAt.toISOString(),
    replayed,
  };
}

/** `{ success: false, error: { code, message } }`, plus any top-level fields (429's `retryAfter`). */
const failure = (status: number, code: string, message: string, topLevel: Record<string, unknown> = {}) =>
  reply(status, { success: false, error: { code, message }, ...topLevel });

function validationError(message: string, field?: string): Reply {
  return reply(400, { success: false, error: { code: 'VALIDATION_ERROR', message, ...(field ? { field } : {}) } });
}

/**
 * Affonso's request signature, as @affonso/sdk 1.x sends it: `X-Affonso-Timestamp` (unix
 * seconds) and `X-Affonso-Signature`, hex HMAC-SHA256 of `"{timestamp}.{raw body}"`. The error
 * codes and the 5-minute window are not documented [?]: 401, like a bad key.
 */
async function checkSignature(sign: (message: string) => Promise<Uint8Array>, request: Request, body: string): Promise<Reply | undefined> {
  const timestamp = request.headers.get('x-affonso-timestamp');
  const signature = request.headers.get('x-affonso-signature');
  if (!timestamp || !signature) return failure(401, 'MISSING_SIGNATURE', 'X-Affonso-Timestamp and X-Affonso-Signature are required');
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
    return failure(401, 'INVALID_SIGNATURE', 'The signature timestamp is not within 5 minutes of now');
  }
  const expected = await sign(`${timestamp}.${body}`);
  if (!constantTimeEqual(fromHex(signature) ?? new Uint8Array(), expected)) return failure(401, 'INVALID_SIGNATURE', 'The signature does not match');
  return undefined;
}

/** The `{id}` of `/v1/conversions/{id}/refund`, decoded; undefined on another path. */
export function affonsoConversionId(request: Request): string | undefined {
  const id = /\/v1\/conversions\/([^/]+)\/refund$/.exec(new URL(request.url).pathname)?.[1];
  return id === undefined ? undefined : decodeURIComponent(id);
}

export async function affonsoRefund(context: VendorContext, request: Request): Promise<Reply> {
  const key = bearerToken(request);
  const rate = checkRate(context, 'affonso', key ?? 'anonymous');
  const answer = await decide(context, request, key, rate);
  // "Every response carries X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (unix seconds)".
  if (rate) {
    answer.headers = {
      ...answer.headers,
      'x-ratelimit-limit': String(rate.limit),
      'x-ratelimit-remaining': String(rate.remaining),
      'x-ratelimit-reset': String(Math.ceil(rate.resetAt / 1000)),
    };
  }
  return answer;
}

async function decide(
  context: VendorContext,
  request: Request,
  key: string | undefined,
  rate: RateDecision | undefined,
): Promise<Reply> {
  if (rate && !rate.allowed) {
    const seconds = secondsUntil(rate.resetAt);
    return {
      ...failure(429, 'RATE_LIMIT_EXCEEDED', 'Rate limit exceeded', { retryAfter: seconds }),
      headers: { 'retry-after': String(seconds) },
    };
  }
  if (key === undefined) return failure(401, 'MISSING_API_KEY', 'Missing API key');
  if (!key.startsWith('sk_')) return failure(401, 'INVALID_API_KEY_FORMAT', 'API keys start with sk_');
  if (!context.keys.affonso.has(key)) return failure(401, 'INVALID_API_KEY', 'Invalid API key');
  const text = await request.text();
  if (context.affonsoSignature) {
    const refused = await checkSignature(context.affonsoSignature, request, text);
    if (refused) return refused;
  }

  const id = affonsoConversionId(request) ?? '';
  const conversion = context.ledger.live('affonso', id);
  if (!conversion) return failure(404, 'NOT_FOUND', `Conversion ${id} not found`);

  const body = parseJsonBody(text);
  if (body === 'invalid') return validationError('Request body must be JSON');
  const { amount, currency, reason, external_event_id: eventId, refunded_at: refundedAt } = body.value;
  if (amount !== undefined && (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0)) {
    return validationError('amount must be a number greater than zero', 'amount');
  }
  if (currency !== undefined && (typeof currency !== 'string' || currency.toUpperCase() !== conversion.sale.currency)) {
    // The docs only say "three-letter code for your refund record" [?]; the emulator holds
    // one currency per conversion and refuses another rather than convert.
    return validationError(`currency must be the conversion's currency (${conversion.sale.currency})`, 'currency');
  }
  if (reason !== undefined && typeof reason !== 'string') return validationError('reason must be a string', 'reason');
  if (eventId !== undefined && (typeof eventId !== 'string' || eventId === '')) {
    return validationError('external_event_id must be a non-empty string', 'external_event_id');
  }
  if (refundedAt !== undefined && (typeof refundedAt !== 'string' || !ISO_8601.test(refundedAt) || Number.isNaN(Date.parse(refundedAt)))) {
    return validationError('refunded_at must be an ISO 8601 timestamp', 'refunded_at');
  }

  // external_event_id: "reuse the same value when retrying the same upstream refund".
  if (typeof eventId === 'string') {
    const earlier = context.ledger.refundByKey('affonso', eventId);
    if (earlier && earlier.conversionId === conversion.id) {
      return reply(200, { success: true, data: conversionView(conversion, true, eventId) });
    }
    if (earlier) return failure(409, 'DUPLICATE_ERROR', `external_event_id ${eventId} was used for another conversion`);
  }

  const remaining = conversion.sale.value - conversion.refunded;
  if (remaining === 0) return validationError('Conversion is already fully refunded', 'amount');
  let refund = remaining;
  if (typeof amount === 'number') {
    const minor = toMinorUnits(amount, conversion.sale.currency);
    if (minor === undefined) return validationError(`amount has more decimals than ${conversion.sale.currency} allows`, 'amount');
    if (minor > remaining) return validationError('amount cannot exceed the remaining sale amount', 'amount');
    refund = minor;
  }
  context.ledger.applyRefund(conversion, refund, typeof eventId === 'string' ? eventId : undefined);
  return reply(200, { success: true, data: conversionView(conversion, false, typeof eventId === 'string' ? eventId : undefined) });
}
