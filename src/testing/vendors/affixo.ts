// Emulates POST https://go.affixo.dev/v1/track/refund
// https://docs.affixo.dev/api-reference/tracking/reverse-a-conversion.md
// https://docs.affixo.dev/authentication.md
import { bearerToken, checkRate, readJson, reply, secondsUntil, type Reply, type VendorContext } from './shared.js';

export async function affixoRefund(context: VendorContext, request: Request): Promise<Reply> {
  const key = bearerToken(request);
  // 600 requests/minute per key, "enforced at the edge": before authentication. The 429 body
  // and headers are undocumented [?]; the emulator answers in the documented error shape.
  const rate = checkRate(context, 'affixo', key ?? 'anonymous');
  if (rate && !rate.allowed) {
    return reply(429, { error: 'rate_limited' }, { 'retry-after': String(secondsUntil(rate.resetAt)) });
  }
  if (key === undefined) return reply(401, { error: 'unauthorized' });
  // Affiliate keys (refa_live_…) are read-only and valid only on /v1/affiliate/*.
  if (key.startsWith('refa_')) {
    return reply(403, { error: 'insufficient_scope', need: 'track', detail: 'affiliate keys are read-only' });
  }
  const scopes = context.keys.affixo.get(key);
  if (!scopes) return reply(401, { error: 'unauthorized' });
  if (!scopes.includes('track') && !scopes.includes('*')) return reply(403, { error: 'insufficient_scope', need: 'track' });

  const body = await readJson(request);
  if (body === 'invalid') return reply(400, { error: 'invalid_json' });
  const externalId = body.value.external_id;
  if (typeof externalId !== 'string' || externalId === '') return reply(400, { error: 'external_id_required' });

  const conversion = context.ledger.live('affixo', externalId);
  if (!conversion) return reply(404, { error: 'unknown_resource', detail: `no conversion with external_id ${externalId}` });
  // "Idempotent on external_id": reversing a reversed conversion changes nothing.
  const remaining = conversion.sale.value - conversion.refunded;
  if (remaining > 0) context.ledger.applyRefund(conversion, remaining);
  return reply(200, { ok: true, conversion_id: conversion.vendorId });
}
