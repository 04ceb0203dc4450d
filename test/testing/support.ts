import { expect } from 'vitest';
import type { Schema } from '../../src/core/validation.js';
import { affixoErrorSchema, affixoRefundResponseSchema } from '../../src/providers/affixo/affixo-schemas.js';
import { affonsoErrorSchema, affonsoRefundResponseSchema } from '../../src/providers/affonso/affonso-schemas.js';
import { firstPromoterErrorSchema, firstPromoterRefundResponseSchema } from '../../src/providers/firstpromoter/firstpromoter-schemas.js';
import { refCampaignErrorSchema, refCampaignRefundResponseSchema } from '../../src/providers/refcampaign/refcampaign-schemas.js';
import type { ProviderName } from '../../src/spec/refund-provider-v1.js';
import {
  EMULATOR_API_KEYS,
  EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
  VENDOR_ENDPOINTS,
  type Emulator,
} from '../../src/testing/index.js';

/** The SDK's own schemas for each vendor: every emulator body must satisfy them. */
const schemas: Record<ProviderName, { ok: Schema; error: Schema }> = {
  affixo: { ok: affixoRefundResponseSchema, error: affixoErrorSchema },
  affonso: { ok: affonsoRefundResponseSchema, error: affonsoErrorSchema },
  refcampaign: { ok: refCampaignRefundResponseSchema, error: refCampaignErrorSchema },
  firstpromoter: { ok: firstPromoterRefundResponseSchema, error: firstPromoterErrorSchema },
};

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** Valid auth headers for a vendor (override with `headers`). */
export function authHeaders(provider: ProviderName): Record<string, string> {
  return {
    authorization: `Bearer ${EMULATOR_API_KEYS[provider]}`,
    ...(provider === 'firstpromoter' ? { 'account-id': EMULATOR_FIRSTPROMOTER_ACCOUNT_ID } : {}),
  };
}

/**
 * Sends one raw request to the emulated vendor and checks the answer against the SDK's
 * schemas: 2xx bodies against the success schema, error bodies against the error envelope.
 */
export async function call(
  emulator: Emulator,
  provider: ProviderName,
  body: unknown,
  options: { headers?: Record<string, string>; id?: string; rawBody?: string } = {},
): Promise<RawAnswer> {
  const { origin, path } = VENDOR_ENDPOINTS[provider];
  const url = `${origin}${path.replace(':id', encodeURIComponent(options.id ?? 'com_1'))}`;
  const headers = Object.fromEntries(
    Object.entries({ 'content-type': 'application/json', ...authHeaders(provider), ...options.headers }).filter(
      ([, value]) => value !== '',
    ),
  );
  const outcome = await emulator.handle(
    provider,
    new Request(url, { method: 'POST', headers, body: options.rawBody ?? JSON.stringify(body) }),
  );
  if ('reset' in outcome) throw new Error('unexpected reset');
  const answer = { status: outcome.status, headers: outcome.headers ?? {}, body: outcome.body };
  if (answer.body !== undefined) {
    const schema = answer.status < 300 ? schemas[provider].ok : schemas[provider].error;
    const parsed = schema.safeParse(answer.body);
    expect(parsed.success, `${provider} ${answer.status} body off the SDK schema: ${JSON.stringify(answer.body)}`).toBe(true);
  }
  return answer;
}
