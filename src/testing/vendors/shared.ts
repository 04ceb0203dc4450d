import type { ProviderName } from '../../spec/refund-provider-v1.js';
import type { Ledger } from '../ledger.js';
import type { FixedWindowLimiter, RateDecision } from '../rate-limit.js';

/** Per vendor: requests answered, and those refused by the emulator's own rate limit (not by an injected fault). */
export interface EmulatorCounts {
  requests: Record<ProviderName, number>;
  rateLimited: Record<ProviderName, number>;
}

/** An emulated vendor's answer. */
export interface Reply {
  status: number;
  /** Serialised as JSON; omitted for an empty body (FirstPromoter's 204). */
  body?: unknown;
  headers?: Record<string, string>;
  /** How a fault alters the wire (see `Fault.compress` and `Fault.trickle`). */
  compress?: 'gzip';
  trickle?: { bytes: number; every: number };
}

/** An Affixo API key's scope: refunds need `track` (or `*`). */
export type AffixoScope = 'read' | 'write' | 'track' | '*';

/** What a vendor emulation can see and change. */
export interface VendorContext {
  ledger: Ledger;
  /** Valid keys per vendor; Affixo's with their scopes. */
  keys: {
    affixo: Map<string, readonly AffixoScope[]>;
    affonso: ReadonlySet<string>;
    refcampaign: ReadonlySet<string>;
    firstpromoter: ReadonlySet<string>;
  };
  firstPromoterAccountId: string;
  /** Signs `"{timestamp}.{body}"` with Affonso's signing secret, when the emulator requires signatures. */
  affonsoSignature?: ((message: string) => Promise<Uint8Array>) | undefined;
  /** Per-vendor limiters (several for Affonso's per-minute and per-second limits); empty when disabled. */
  limiters: Record<ProviderName, readonly FixedWindowLimiter[]>;
  /** What the emulator has answered, for tests that judge a client by it. */
  counts: EmulatorCounts;
  nextRequestId(): string;
}

export const reply = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({
  status,
  ...(body === undefined ? {} : { body }),
  ...(headers === undefined ? {} : { headers }),
});

/** The token of `Authorization: Bearer <token>`, if any. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  return match?.[1];
}

/** The JSON body, or `invalid` when it is not JSON (an empty body reads as `{}`). */
export async function readJson(request: Request): Promise<{ value: Record<string, unknown> } | 'invalid'> {
  return parseJsonBody(await request.text());
}

/** `readJson` on a body already read. */
export function parseJsonBody(text: string): { value: Record<string, unknown> } | 'invalid' {
  if (text.trim() === '') return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { value: value as Record<string, unknown> }
      : 'invalid';
  } catch {
    return 'invalid';
  }
}

/**
 * Counts the request against every limiter of the vendor; the decision that refused it, or
 * the tightest one when all allowed it (for rate-limit headers).
 */
export function checkRate(context: VendorContext, provider: ProviderName, key: string): RateDecision | undefined {
  let tightest: RateDecision | undefined;
  for (const limiter of context.limiters[provider]) {
    const decision = limiter.take(key);
    if (!decision.allowed) {
      context.counts.rateLimited[provider] += 1;
      return decision;
    }
    if (!tightest || decision.remaining < tightest.remaining) tightest = decision;
  }
  return tightest;
}

/** Whole seconds until a rate-limit window resets, at least 1. */
export const secondsUntil = (resetAt: number): number => Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
