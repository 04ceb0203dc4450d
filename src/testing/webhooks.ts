import { hmacSha256, toHex } from '../core/hmac.js';
import { toMajorUnitsNumber } from '../core/money.js';
import { signedMessage } from '../webhooks/signature.js';
import type { LedgerConversion, LedgerRefund } from './ledger.js';

/**
 * Affonso's two documented header forms: `v1` is `X-Affonso-Signature: t=<unix>,v1=<hex>`
 * (docs.affonso.io/webhooks/setup); `timestamp` is `X-Affonso-Timestamp: <unix>` with
 * `X-Affonso-Signature: sha256=<hex>` (the help centre).
 */
export type AffonsoSignatureForm = 'v1' | 'timestamp';

/** `signWebhook()`'s options: the `timestamp` to sign (unix seconds; a stale one tests your window) and Affonso's signature form. */
export interface SignWebhookOptions {
  /** Signing time, unix seconds (default: now). A stale one tests a receiver's window. */
  timestamp?: number;
  /** Affonso only (default `v1`). */
  affonsoForm?: AffonsoSignatureForm;
}

/**
 * The headers RefCampaign or Affonso would send with `payload`, signed with `secret`
 * (HMAC-SHA256 of `"<t>.<payload>"`): for testing a webhook receiver without the vendor.
 */
export async function signWebhook(
  provider: 'refcampaign' | 'affonso',
  payload: string,
  secret: string,
  options: SignWebhookOptions = {},
): Promise<Record<string, string>> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = toHex(await hmacSha256(secret)(signedMessage(timestamp, payload)));
  const headers = { 'content-type': 'application/json' };
  if (provider === 'refcampaign') return { ...headers, 'x-refcampaign-signature': `t=${timestamp},v1=${signature}` };
  return options.affonsoForm === 'timestamp'
    ? { ...headers, 'x-affonso-timestamp': String(timestamp), 'x-affonso-signature': `sha256=${signature}` }
    : { ...headers, 'x-affonso-signature': `t=${timestamp},v1=${signature}` };
}

/** The emulator's `webhooks` option: where to POST a signed webhook for each refund it applies, and with which secrets. */
export interface EmulatorWebhooks {
  /** Where every webhook is POSTed (your receiver, on loopback or mocked with msw). */
  url: string;
  /** The signing secret per vendor; a vendor without one sends none. Only RefCampaign and Affonso send refund webhooks. */
  secrets: { refcampaign?: string; affonso?: string };
  /** Default `v1`. */
  affonsoForm?: AffonsoSignatureForm;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** One webhook the emulator sent: what, and how the receiver answered (`status`) or why it could not (`error`). */
export interface WebhookDelivery {
  provider: 'refcampaign' | 'affonso';
  type: string;
  body: string;
  status?: number;
  error?: string;
}

/**
 * The webhook a vendor sends for a refund it applied, or undefined for vendors that send none:
 * RefCampaign `conversion.refunded` (docs.refcampaign.com/docs/api/integration/webhooks, with its
 * idempotencyKey per event and conversion); Affonso `transaction.rejected` for a full refund and
 * `transaction.updated` for a partial one, in its envelope `{ id, type, createdAt, data }`
 * (docs.affonso.io/webhooks). Affonso documents no fields for `data` of these two events: the
 * emulator sends the conversion's id and amounts in major units, as its API gives them.
 */
export function refundWebhook(refund: LedgerRefund, conversion: LedgerConversion): { provider: 'refcampaign' | 'affonso'; type: string; body: string } | undefined {
  const at = refund.at.toISOString();
  const currency = conversion.sale.currency;
  if (refund.provider === 'refcampaign') {
    const type = 'conversion.refunded';
    const data = {
      conversionId: conversion.vendorId,
      externalId: conversion.id,
      amount: refund.amount,
      refundedAmount: conversion.refunded,
      currency,
      commission: conversion.commission,
      commissionChange: refund.commissionChange,
    };
    return { provider: 'refcampaign', type, body: JSON.stringify({ event: type, data, timestamp: at, idempotencyKey: `${type}:conversion:${conversion.vendorId}` }) };
  }
  if (refund.provider === 'affonso') {
    const full = conversion.refunded >= conversion.sale.value;
    const type = full ? 'transaction.rejected' : 'transaction.updated';
    const data = {
      id: conversion.id,
      sale_amount: toMajorUnitsNumber(conversion.sale.value, currency),
      refunded_amount: toMajorUnitsNumber(conversion.refunded, currency),
      refund_amount: toMajorUnitsNumber(refund.amount, currency),
      currency,
      sales_status: full ? 'refunded' : 'partial_refunded',
      commission_amount: toMajorUnitsNumber(conversion.commission, currency),
    };
    // The ledger's sequence number is unique per applied refund: one event id each.
    return { provider: 'affonso', type, body: JSON.stringify({ id: `evt_emulator_${refund.sequence}`, type, createdAt: at, data }) };
  }
  return undefined;
}

/** Signs and POSTs the webhook for one applied refund; the delivery is recorded, never thrown. */
export async function deliverRefundWebhook(settings: EmulatorWebhooks, refund: LedgerRefund, conversion: LedgerConversion, deliveries: WebhookDelivery[]): Promise<void> {
  const webhook = refundWebhook(refund, conversion);
  const secret = webhook && settings.secrets[webhook.provider];
  if (!webhook || secret === undefined) return;
  const delivery: WebhookDelivery = { ...webhook };
  deliveries.push(delivery);
  try {
    const headers = await signWebhook(webhook.provider, webhook.body, secret, { affonsoForm: settings.affonsoForm ?? 'v1' });
    const response = await (settings.fetch ?? globalThis.fetch)(settings.url, { method: 'POST', headers, body: webhook.body });
    delivery.status = response.status;
    await response.body?.cancel();
  } catch (error) {
    delivery.error = error instanceof Error ? error.message : String(error);
  }
}
