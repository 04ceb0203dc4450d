/**
 * The signature scheme RefCampaign and Affonso share with Stripe: a header
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Parsing and the signed
 * message are shared by `verifyWebhook` (Web Crypto, async) and the RefCampaign drop-in's
 * synchronous `verifyWebhookSignature`.
 */

import { constantTimeEqual, fromHex } from '../core/hmac.js';

const encoder = new TextEncoder();

/** The window both vendors document: 300 s either side of the signing time. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The RefCampaign event types (`@refcampaign/sdk`'s `WEBHOOK_EVENT_TYPES`); the dashboard's ping is `webhook.test`. */
export const REFCAMPAIGN_WEBHOOK_EVENT_TYPES = [
  'conversion.created',
  'conversion.refunded',
  'conversion.commission_paid',
  'conversion.disputed',
  'conversion.dispute_resolved',
] as const;

export interface SignedHeader {
  timestamp: number;
  /** Every `v1=` value (several while a secret is being rotated), as bytes. */
  signatures: Uint8Array[];
}

/** Unix seconds written as digits (surrounding spaces allowed), or undefined. */
export function parseUnixSeconds(text: string): number | undefined {
  const value = text.trim();
  return /^\d{1,12}$/.test(value) ? Number(value) : undefined;
}

/** An HMAC-SHA256 written as 64 hex digits, as bytes, or undefined. */
export function hmacFromHex(text: string): Uint8Array | undefined {
  const bytes = fromHex(text);
  return bytes?.length === 32 ? bytes : undefined;
}

/**
 * Whether `expected` equals any of `signatures`: every one is compared (no early exit), each in
 * time that does not depend on where it differs.
 */
export function matchesAny(expected: Uint8Array, signatures: readonly Uint8Array[]): boolean {
  let matched = false;
  for (const candidate of signatures) matched = constantTimeEqual(expected, candidate) || matched;
  return matched;
}

/** `t=…,v1=…[,v1=…]`, or why it is not one. Unknown keys (a future `v2=`) are ignored. */
export function parseSignedHeader(header: string): SignedHeader | { problem: string } {
  let timestamp: number | undefined;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      timestamp = parseUnixSeconds(value);
      if (timestamp === undefined) return { problem: 'its t= is not a unix timestamp in seconds' };
    } else if (key === 'v1') {
      const bytes = hmacFromHex(value);
      if (!bytes) return { problem: 'a v1= is not 64 hex digits (an HMAC-SHA256)' };
      signatures.push(bytes);
    }
  }
  if (timestamp === undefined) return { problem: 'it has no t=<unix seconds>' };
  if (signatures.length === 0) return { problem: 'it has no v1=<signature>' };
  return { timestamp, signatures };
}

/** The bytes signed: `"<t>."` followed by the raw body, byte for byte. */
export function signedMessage(timestamp: number | string, payload: string | Uint8Array): Uint8Array {
  const prefix = encoder.encode(`${timestamp}.`);
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix);
  message.set(body, prefix.length);
  return message;
}

/** Seconds since the epoch: a Date, or a number of milliseconds (`Date.now()`); below 1e11, a number is taken as seconds already. */
export function epochSeconds(now: Date | number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  const value = now instanceof Date ? now.getTime() : now;
  return now instanceof Date || value >= 1e11 ? Math.floor(value / 1000) : Math.floor(value);
}
