import type { ProviderName } from '../spec/refund-provider-v1.js';

/** Where a seeded conversion's commission stands. */
export type CommissionStatus = 'pending' | 'approved' | 'paid' | 'refunded';

/** A conversion to put in the emulator's ledger before a test. Amounts in minor units. */
export interface ConversionSeed {
  /** The id `refund()` takes as `conversionId`: Affixo `external_id`, Affonso conversion id, RefCampaign `externalId`, FirstPromoter sale `event_id`. */
  id: string;
  /** The sale: `{ value: 12000, currency: 'USD' }` is USD 120.00. */
  sale: { value: number; currency: string };
  /** The affiliate's commission on the sale, in minor units. Default: 30 % of the sale. */
  commission?: number;
  /** Default `approved`. RefCampaign refuses to refund `pending` commissions. */
  commissionStatus?: Exclude<CommissionStatus, 'refunded'>;
  /** Already refunded before the test, in minor units. Default 0. */
  refunded?: number;
  /** FirstPromoter's lead, found by `email` or `uid`. Required for FirstPromoter conversions. */
  lead?: { email?: string; uid?: string };
}

/** A conversion as the emulated vendor holds it now. */
export interface LedgerConversion {
  provider: ProviderName;
  id: string;
  /** The vendor's own id for it (Affixo `conversion_id`, RefCampaign `conversionId`, FirstPromoter sale id). */
  vendorId: string;
  sale: { value: number; currency: string };
  /** Refunded so far, minor units. */
  refunded: number;
  /** Current commission, minor units (reduced in proportion to what was refunded). */
  commission: number;
  originalCommission: number;
  commissionStatus: CommissionStatus;
  lead?: { email?: string; uid?: string };
  createdAt: Date;
  updatedAt: Date;
}

/** One refund the emulated vendor applied. Replays and rejected calls are not recorded. */
export interface LedgerRefund {
  provider: ProviderName;
  conversionId: string;
  /** Refunded by this event, minor units of the sale's currency. */
  amount: number;
  /** Commission change, minor units (≤ 0). */
  commissionChange: number;
  /** The key the vendor deduplicates on, where it takes one (Affonso `external_event_id`, FirstPromoter `event_id`). */
  idempotencyKey?: string;
  /** Sequence number of the vendor's event (FirstPromoter's refund `id`). */
  sequence: number;
  at: Date;
}

/** Which refunds `ledger.refunds(filter)` lists: of one provider, one conversion, or both. */
export interface RefundFilter {
  provider?: ProviderName;
  conversionId?: string;
}

/** Prefixes of the vendors' own ids: Affixo `conversion_id`, RefCampaign `conversionId`, … */
const vendorIdPrefix: Record<ProviderName, string> = { affixo: 'cv', affonso: 'aff', refcampaign: 'conv', firstpromoter: 'fp' };

const conversionKey = (provider: ProviderName, id: string) => `${provider}\u0000${id}`;

/**
 * The emulator's record of conversions and of every refund applied, shared by all four
 * vendors. Read it in tests: `ledger.refunds({ provider: 'affonso', conversionId: 'com_1' })`
 * has exactly one entry when the order was refunded exactly once.
 */
export class Ledger {
  readonly #conversions = new Map<string, LedgerConversion>();
  readonly #refunds: LedgerRefund[] = [];
  // Indexes, so that large campaigns and benchmarks stay linear.
  readonly #refundsByConversion = new Map<string, LedgerRefund[]>();
  readonly #refundsByKey = new Map<string, LedgerRefund>();
  #sequence = 0;
  readonly #onRefund: ((refund: LedgerRefund, conversion: LedgerConversion) => void) | undefined;

  /** `onRefund` (the emulator's webhooks) is told of every refund applied, with copies. */
  constructor(onRefund?: (refund: LedgerRefund, conversion: LedgerConversion) => void) {
    this.#onRefund = onRefund;
  }

  /** Adds (or replaces) conversions for one vendor. */
  seed(provider: ProviderName, seeds: readonly ConversionSeed[]): void {
    for (const seed of seeds) {
      if (!Number.isSafeInteger(seed.sale.value) || seed.sale.value <= 0) {
        throw new RangeError(`seed ${provider}/${seed.id}: sale.value must be a positive integer of minor units`);
      }
      if (provider === 'firstpromoter' && !seed.lead?.email && !seed.lead?.uid) {
        throw new RangeError(`seed firstpromoter/${seed.id}: a FirstPromoter conversion needs lead.email or lead.uid`);
      }
      const refunded = seed.refunded ?? 0;
      const originalCommission = seed.commission ?? Math.round(seed.sale.value * 0.3);
      const now = new Date();
      this.#sequence += 1;
      this.#conversions.set(conversionKey(provider, seed.id), {
        provider,
        id: seed.id,
        vendorId: `${vendorIdPrefix[provider]}_${this.#sequence.toString().padStart(6, '0')}`,
        sale: { value: seed.sale.value, currency: seed.sale.currency.toUpperCase() },
        refunded,
        commission: remainingCommission(originalCommission, seed.sale.value, refunded),
        originalCommission,
        commissionStatus: refunded >= seed.sale.value ? 'refunded' : (seed.commissionStatus ?? 'approved'),
        ...(seed.lead ? { lead: { ...seed.lead } } : {}),
        createdAt: now,
        updatedAt: now,
      });
    }
  }

  /** A copy of one conversion, or undefined. */
  conversion(provider: ProviderName, id: string): LedgerConversion | undefined {
    const conversion = this.#conversions.get(conversionKey(provider, id));
    return conversion && structuredClone(conversion);
  }

  /** Copies of the conversions, optionally of one vendor. */
  conversions(provider?: ProviderName): LedgerConversion[] {
    return [...this.#conversions.values()]
      .filter((conversion) => provider === undefined || conversion.provider === provider)
      .map((conversion) => structuredClone(conversion));
  }

  /** Copies of the refunds applied, in order, optionally filtered. */
  refunds(filter: RefundFilter = {}): LedgerRefund[] {
    const candidates =
      filter.provider !== undefined && filter.conversionId !== undefined
        ? (this.#refundsByConversion.get(conversionKey(filter.provider, filter.conversionId)) ?? [])
        : this.#refunds;
    return candidates
      .filter(
        (refund) =>
          (filter.provider === undefined || refund.provider === filter.provider) &&
          (filter.conversionId === undefined || refund.conversionId === filter.conversionId),
      )
      .map((refund) => structuredClone(refund));
  }

  /** @internal The live record of one conversion, for the vendor emulations. */
  live(provider: ProviderName, id: string): LedgerConversion | undefined {
    return this.#conversions.get(conversionKey(provider, id));
  }

  /** @internal The live record added last that matches, for "the lead's latest sale". */
  findLast(provider: ProviderName, predicate: (conversion: LedgerConversion) => boolean): LedgerConversion | undefined {
    let found: LedgerConversion | undefined;
    for (const conversion of this.#conversions.values()) {
      if (conversion.provider === provider && predicate(conversion)) found = conversion;
    }
    return found;
  }

  /** @internal The refund recorded under a vendor's idempotency key, if any. */
  refundByKey(provider: ProviderName, idempotencyKey: string): LedgerRefund | undefined {
    return this.#refundsByKey.get(conversionKey(provider, idempotencyKey));
  }

  /**
   * @internal Applies a refund of `amount` minor units (≤ what remains): reduces the
   * commission in proportion, marks it refunded when nothing remains, records the event.
   */
  applyRefund(conversion: LedgerConversion, amount: number, idempotencyKey?: string): LedgerRefund {
    const before = conversion.commission;
    conversion.refunded += amount;
    conversion.commission = remainingCommission(conversion.originalCommission, conversion.sale.value, conversion.refunded);
    if (conversion.refunded >= conversion.sale.value) conversion.commissionStatus = 'refunded';
    conversion.updatedAt = new Date();
    this.#sequence += 1;
    const refund: LedgerRefund = {
      provider: conversion.provider,
      conversionId: conversion.id,
      amount,
      commissionChange: conversion.commission - before,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      sequence: this.#sequence,
      at: conversion.updatedAt,
    };
    this.#refunds.push(refund);
    const byConversion = conversionKey(refund.provider, refund.conversionId);
    this.#refundsByConversion.set(byConversion, [...(this.#refundsByConversion.get(byConversion) ?? []), refund]);
    if (idempotencyKey !== undefined) this.#refundsByKey.set(conversionKey(refund.provider, idempotencyKey), refund);
    this.#onRefund?.(structuredClone(refund), structuredClone(conversion));
    return structuredClone(refund);
  }

  /** Forgets every conversion and refund. */
  clear(): void {
    this.#conversions.clear();
    this.#refunds.length = 0;
    this.#refundsByConversion.clear();
    this.#refundsByKey.clear();
  }
}

/**
 * Commission left after refunding `refunded` of `sale`, rounded half up to a minor unit.
 * In BigInt: `original * remaining` can pass 2^53 for large amounts.
 */
function remainingCommission(original: number, sale: number, refunded: number): number {
  const remaining = BigInt(Math.max(0, sale - refunded));
  return Number((2n * BigInt(original) * remaining + BigInt(sale)) / (2n * BigInt(sale)));
}
