// Emulates POST https://api.firstpromoter.com/api/v2/track/refund
// https://docs.firstpromoter.com/api-reference-v2/api-admin/tracking-api/refund
// https://docs.firstpromoter.com/api-reference-v2/api-admin/authentication
import type { LedgerConversion } from '../ledger.js';
import { bearerToken, checkRate, readJson, reply, secondsUntil, type Reply, type VendorContext } from './shared.js';

const message = (status: number, text: string) => reply(status, { message: text });

function leadView(conversion: LedgerConversion) {
  return {
    id: Number(conversion.vendorId.replace(/\D/g, '')),
    state: conversion.refunded >= conversion.sale.value ? 'cancelled' : 'active',
    email: conversion.lead?.email ?? null,
    uid: conversion.lead?.uid ?? null,
    customer_since: conversion.createdAt.toISOString(),
  };
}

export async function firstPromoterRefund(context: VendorContext, request: Request): Promise<Reply> {
  const accountId = request.headers.get('account-id');
  // "400 requests/minute per account, then 429"; headers undocumented [?].
  const rate = checkRate(context, 'firstpromoter', accountId ?? 'anonymous');
  if (rate && !rate.allowed) {
    return { ...message(429, 'Too many requests'), headers: { 'retry-after': String(secondsUntil(rate.resetAt)) } };
  }
  const key = bearerToken(request);
  if (key === undefined || !context.keys.firstpromoter.has(key)) return message(401, 'Unauthorized: invalid API key');
  if (accountId !== context.firstPromoterAccountId) return message(401, 'Unauthorized: missing or invalid Account-ID');

  const body = await readJson(request);
  if (body === 'invalid') return message(400, 'Error. Invalid JSON.');
  const { event_id: eventId, amount, email, uid, currency, sale_event_id: saleEventId } = body.value;
  if (typeof eventId !== 'string' || eventId === '') return message(400, 'Error. event_id is required.');
  if (typeof amount !== 'string' || !/^[1-9]\d*$/.test(amount)) return message(400, 'Error. Amount blank or invalid.');
  if (typeof email !== 'string' && typeof uid !== 'string') return message(400, 'Error. email or uid is required.');

  // event_id is "required to avoid generating duplicate refunds".
  if (context.ledger.refundByKey('firstpromoter', eventId)) {
    return message(409, `The 'refund' event with the id '${eventId}' already exists.`);
  }

  const isLead = (conversion: LedgerConversion) =>
    (typeof email === 'string' && conversion.lead?.email === email) || (typeof uid === 'string' && conversion.lead?.uid === uid);
  // With sale_event_id, that sale of the lead; without, the lead's latest sale with something
  // left to refund. No lead or no such sale: 204 No Content, nothing recorded.
  let conversion: LedgerConversion | undefined;
  if (typeof saleEventId === 'string') {
    const sale = context.ledger.live('firstpromoter', saleEventId);
    conversion = sale && isLead(sale) ? sale : undefined;
  } else {
    conversion = context.ledger.findLast('firstpromoter', (candidate) => isLead(candidate) && candidate.refunded < candidate.sale.value);
  }
  if (!conversion) return reply(204);

  if (currency !== undefined && (typeof currency !== 'string' || currency.toUpperCase() !== conversion.sale.currency)) {
    // FirstPromoter converts other currencies to the account's; the emulator has no rates.
    return message(400, `Error. The emulator only takes the sale's currency (${conversion.sale.currency}).`);
  }
  const cents = Number(amount);
  if (cents > conversion.sale.value - conversion.refunded) {
    return message(400, 'Error. Refund amount exceeds the amount left on the sale.');
  }
  const refund = context.ledger.applyRefund(conversion, cents, eventId);
  const lead = leadView(conversion);
  return reply(200, {
    id: refund.sequence,
    type: 'refund',
    amount_cents: -cents,
    reward: {
      id: refund.sequence,
      status: 'approved',
      amount: refund.commissionChange,
      unit: 'cash',
      created_at: refund.at.toISOString(),
      lead,
      event_id: eventId,
      conversion_amount: -cents,
      tier_level: 1,
      split_type: null,
    },
    lead,
    promoter: { id: 1, status: 'active', email: 'promoter@example.com' },
  });
}
