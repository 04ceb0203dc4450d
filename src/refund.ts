import * as z from 'zod/mini';
import { unexpectedFailure } from './core/errors.js';
import { generateIdempotencyKey } from './core/idempotency.js';
import { callOptionsShape, expected, idempotencyKeySchema, matches, moneySchema, nonEmptyString, omittable, optional, parseInput, strictObject, timestampSchema } from './core/validation.js';
import type {
  CallOptions,
  Customer,
  Money,
  ProviderName,
  ProviderOptions,
  RefundCall,
  RefundProviderV1,
  RefundResult,
} from './spec/refund-provider-v1.js';

/** The options every `refund()` takes, whatever the provider (see `RefundOptions`). */
export interface RefundOptionsBase extends CallOptions {
  /** Which conversion to reverse: Affixo `external_id`, Affonso conversion id, RefCampaign `externalId`, FirstPromoter `sale_event_id`. */
  conversionId: string;
  reason?: string;
  /** When the refund happened upstream. */
  refundedAt?: Date | string;
  /** The caller's key for this refund; a UUID is generated when omitted. Reuse it to retry the same refund. */
  idempotencyKey?: string;
  providerOptions?: ProviderOptions;
}

/** The fields whose rules differ by provider, so the compiler can refuse impossible requests. */
export interface RefundFieldsByProvider {
  /** Affixo reverses whole conversions only: no `amount` (see `AffixoFields` for the message the compiler gives). */
  affixo: { amount?: never; customer?: Customer };
  /** `amount` omitted: a full refund of the remaining balance. */
  affonso: { amount?: Money; customer?: Customer };
  /** `amount` omitted: a full refund. */
  refcampaign: { amount?: Money; customer?: Customer };
  /** FirstPromoter needs the amount and the lead, by exactly one of email or uid. */
  firstpromoter: { amount: Money; customer: { email: string; uid?: never } | { uid: string; email?: never } };
}

/** Any provider `refund()` takes: from `createAffixo()`, `createAffonso()`, `createRefCampaign()` or `createFirstPromoter()`. */
export type RefundProvider = RefundProviderV1;

/**
 * An Affixo refund's fields when the provider is known to be Affixo: `amount` typed as a message
 * (not `never`), so the compiler's error says why it is refused ("… is not assignable to type
 * '"Affixo reverses whole conversions only: omit amount"'"). refund() refuses any amount at run
 * time too. For a provider chosen at run time, `amount` stays `Money`.
 */
export interface AffixoFields {
  amount?: 'Affixo reverses whole conversions only: omit amount';
  customer?: Customer;
}

/** `refund()`'s options: the provider, the conversion, and `amount` and `customer` as that provider allows them (the compiler refuses what it cannot carry out). */
export type RefundOptions<P extends RefundProvider = RefundProvider> = RefundOptionsBase & {
  provider: P;
} & ([P['provider']] extends ['affixo'] ? AffixoFields : RefundFieldsByProvider[P['provider']]);

const providerNames = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'] as const satisfies readonly ProviderName[];

function isProvider(value: unknown): value is RefundProvider {
  const candidate = value as Partial<RefundProvider> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.specificationVersion === 'v1' &&
    providerNames.includes(candidate.provider as ProviderName) &&
    typeof candidate.doRefund === 'function'
  );
}

/** A provider object from one of the four factories. */
export const providerSchema = z.custom<RefundProvider>(isProvider, {
  error: (issue) =>
    issue.input === undefined
      ? 'is required: pass the result of createAffixo(), createAffonso(), createRefCampaign() or createFirstPromoter()'
      : 'must be a provider from createAffixo(), createAffonso(), createRefCampaign() or createFirstPromoter()',
});

/** `{ email }` or `{ uid }`: the customer (FirstPromoter "lead") whose commission is reversed. */
export const customerSchema = z
  .strictObject(
    {
      email: optional(
        z.string({ error: expected('an email address') }).check(
          matches(/^[^\s@]+@[^\s@]+$/, 'must be an email address'),
        ),
      ),
      uid: optional(nonEmptyString()),
    },
    { error: expected('an object like { email } or { uid }') },
  )
  .check(
    z.refine((customer) => customer.email !== undefined || customer.uid !== undefined, 'must have an email or a uid'),
  );

/**
 * `refund()`'s options, as `refund()` validates them. `provider` must be a provider object, so
 * for a queue of refunds to send later use `z.omit(refundOptionsSchema, { provider: true })`.
 */
export const refundOptionsSchema = strictObject(
  {
    provider: providerSchema,
    conversionId: nonEmptyString(),
    amount: omittable(moneySchema),
    reason: optional(nonEmptyString()),
    refundedAt: optional(timestampSchema),
    customer: optional(customerSchema),
    idempotencyKey: optional(idempotencyKeySchema),
    ...callOptionsShape,
    // Each provider reads and validates its own slice; a misspelt provider name is caught here.
    providerOptions: optional(
      strictObject(
        Object.fromEntries(providerNames.map((name) => [name, optional(z.unknown())])),
        { error: expected('an object keyed by provider name') },
      ),
    ),
  },
  { error: expected('an options object') },
);

/**
 * Reverses an affiliate commission on one platform. Resolves to what the vendor confirmed;
 * rejects with a `ClawbackError`. Impossible requests are refused with `ValidationError`
 * before anything is sent.
 */
export async function refund<P extends RefundProvider>(options: RefundOptions<P>): Promise<RefundResult> {
  const maybeProvider = (options as { provider?: unknown } | null | undefined)?.provider;
  const { provider, idempotencyKey, amount, refundedAt, ...call } = parseInput(
    refundOptionsSchema,
    options,
    'Invalid refund() options',
    isProvider(maybeProvider) ? maybeProvider.provider : undefined,
  );
  // Fixed once, before the first attempt, and sent unchanged on every retry.
  const refundCall: RefundCall = {
    ...call,
    // Normalised here, not by schema transforms (which would add to every bundle).
    ...(amount && { amount: { value: amount.value, currency: amount.currency.toUpperCase() } }),
    ...(refundedAt !== undefined && { refundedAt: new Date(refundedAt).toISOString() }),
    providerOptions: call.providerOptions as ProviderOptions | undefined,
    idempotencyKey: idempotencyKey ?? generateIdempotencyKey(),
    idempotencyKeyGenerated: idempotencyKey === undefined,
  };
  // clawback's providers guard their own calls (redacting with the credentials they hold); this
  // keeps a provider written elsewhere to the same rule: only a ClawbackError leaves refund().
  return provider.doRefund(refundCall).catch((error: unknown) => Promise.reject(unexpectedFailure(error, provider.provider)));
}
