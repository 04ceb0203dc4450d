import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  NotFoundError,
  ServerError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
  type ProviderName,
  type RefundOptions,
  type RefundProvider,
  type RefundStatus,
} from '../../src/index.js';
import { EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, createEmulator, startEmulator, type ConversionSeed, type Emulator, type EmulatorOptions, type EmulatorProviders } from '../../src/testing/index.js';
import { emulatorHandlers } from '../../src/testing/msw.js';

interface Mounted {
  emulator: Emulator;
  providers: EmulatorProviders;
  baseURL(provider: ProviderName): string | undefined;
  close(): Promise<void>;
}

/** The two ways to mount the emulator; the same tests run against both. */
const msw = setupServer();
const mounts = [
  {
    name: 'msw handlers',
    before: () => msw.listen({ onUnhandledFrame: 'error' }),
    after: () => msw.close(),
    async mount(options: EmulatorOptions): Promise<Mounted> {
      const emulator = createEmulator(options);
      msw.use(...emulatorHandlers(emulator));
      return { emulator, providers: emulator.providers(), baseURL: () => undefined, close: async () => msw.resetHandlers() };
    },
  },
  {
    name: 'loopback server',
    before: () => undefined,
    after: () => undefined,
    async mount(options: EmulatorOptions): Promise<Mounted> {
      const running = await startEmulator(options);
      return { ...running, baseURL: (provider) => running.baseURLs[provider] };
    },
  },
];

/** Per vendor: a seeded sale of USD 120.00 with 36.00 commission, and how refund() addresses it. */
const vendors: Array<{
  name: ProviderName;
  id: string;
  seed: ConversionSeed;
  full: Partial<RefundOptions>;
  partial?: Partial<RefundOptions>;
  status: { full: RefundStatus; partial?: RefundStatus };
  /** Whether the vendor says "already recorded" on a repeat of the same refund. */
  reportsDuplicates: boolean;
  withKey: (apiKey: string, baseURL: string | undefined) => RefundProvider;
}> = [
  {
    name: 'affixo',
    id: 'order_1',
    seed: { id: 'order_1', sale: { value: 12_000, currency: 'USD' }, commission: 3_600 },
    full: {},
    status: { full: 'refunded' },
    reportsDuplicates: false,
    withKey: (apiKey, baseURL) => createAffixo({ apiKey, ...(baseURL ? { baseURL } : {}) }),
  },
  {
    name: 'affonso',
    id: 'com_1',
    seed: { id: 'com_1', sale: { value: 12_000, currency: 'USD' }, commission: 3_600 },
    full: {},
    partial: { amount: { value: 2_500, currency: 'USD' } },
    status: { full: 'refunded', partial: 'partially_refunded' },
    reportsDuplicates: true,
    withKey: (apiKey, baseURL) => createAffonso({ apiKey, ...(baseURL ? { baseURL } : {}) }),
  },
  {
    name: 'refcampaign',
    id: 'order_1',
    seed: { id: 'order_1', sale: { value: 12_000, currency: 'USD' }, commission: 3_600 },
    full: {},
    partial: { amount: { value: 2_500, currency: 'USD' } },
    status: { full: 'refunded', partial: 'accepted' },
    reportsDuplicates: true,
    withKey: (apiKey, baseURL) => createRefCampaign({ apiKey, ...(baseURL ? { baseURL } : {}) }),
  },
  {
    name: 'firstpromoter',
    id: 'sale_1',
    seed: { id: 'sale_1', sale: { value: 12_000, currency: 'USD' }, commission: 3_600, lead: { email: 'ana@example.com' } },
    full: { amount: { value: 12_000, currency: 'USD' }, customer: { email: 'ana@example.com' } },
    partial: { amount: { value: 2_500, currency: 'USD' }, customer: { email: 'ana@example.com' } },
    status: { full: 'accepted', partial: 'accepted' },
    reportsDuplicates: true,
    withKey: (apiKey, baseURL) =>
      createFirstPromoter({ apiKey, accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, ...(baseURL ? { baseURL } : {}) }),
  },
];

describe.each(mounts)('SDK against the emulator through $name', (mount) => {
  beforeAll(mount.before);
  afterAll(mount.after);
  let mounted: Mounted | undefined;
  afterEach(async () => {
    await mounted?.close();
    mounted = undefined;
  });
  const start = async (vendor: (typeof vendors)[number], options: EmulatorOptions = {}) => {
    mounted = await mount.mount({ seed: { [vendor.name]: [vendor.seed] }, ...options });
    return mounted;
  };
  const refundWith = (m: Mounted, vendor: (typeof vendors)[number], options: Partial<RefundOptions> = {}) =>
    refund({ provider: m.providers[vendor.name], conversionId: vendor.id, ...vendor.full, ...options } as never);

  describe.each(vendors)('$name', (vendor) => {
    it('refunds in full, and the ledger shows it', async () => {
      const m = await start(vendor);
      const result = await refundWith(m, vendor);
      expect(result).toMatchObject({ provider: vendor.name, status: vendor.status.full, duplicate: false });
      expect(m.emulator.ledger.refunds()).toEqual([expect.objectContaining({ conversionId: vendor.id, amount: 12_000, commissionChange: -3_600 })]);
    });

    it.runIf(vendor.partial)('refunds in part, reducing the commission in proportion', async () => {
      const m = await start(vendor);
      const result = await refundWith(m, vendor, vendor.partial);
      expect(result.status).toBe(vendor.status.partial);
      expect(m.emulator.ledger.conversion(vendor.name, vendor.id)).toMatchObject({ refunded: 2_500, commission: 2_850 });
    });

    it('refunds exactly once when the same refund is sent twice with the same key', async () => {
      const m = await start(vendor);
      await refundWith(m, vendor, { idempotencyKey: 'refund-42' });
      const again = await refundWith(m, vendor, { idempotencyKey: 'refund-42' });
      expect(again.duplicate).toBe(vendor.reportsDuplicates);
      expect(m.emulator.ledger.refunds()).toHaveLength(1);
    });

    it('reports an unknown conversion as NotFoundError', async () => {
      const m = await start(vendor);
      const error = await refundWith(m, vendor, {
        conversionId: 'unknown_1',
        ...(vendor.name === 'firstpromoter' ? { customer: { email: 'nobody@example.com' } } : {}),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
    });

    it('reports a wrong key as AuthenticationError', async () => {
      const m = await start(vendor);
      const provider = vendor.withKey(`${vendor.name === 'affonso' ? 'sk' : 'sa'}_live_wrong_key`, m.baseURL(vendor.name));
      const error = await refund({ provider, conversionId: vendor.id, ...vendor.full } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, retryable: false });
    });

    it.runIf(vendor.partial)('reports an over-refund as BadRequestError', async () => {
      const m = await start(vendor);
      const error = await refundWith(m, vendor, { amount: { value: 12_001, currency: 'USD' } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect(m.emulator.ledger.refunds()).toHaveLength(0);
    });

    it('retries a 503 that applied nothing, and refunds once', async () => {
      const m = await start(vendor);
      m.emulator.inject({ provider: vendor.name, status: 503, headers: { 'retry-after': '0' } });
      await refundWith(m, vendor);
      expect(m.emulator.ledger.refunds()).toHaveLength(1);
    });

    it('retries a 500 sent after the refund was applied, and still refunds once', async () => {
      const m = await start(vendor);
      m.emulator.inject({ provider: vendor.name, status: 500, headers: { 'retry-after': '0' }, afterApply: true });
      const result = await refundWith(m, vendor);
      expect(result.duplicate).toBe(vendor.reportsDuplicates);
      expect(m.emulator.ledger.refunds()).toHaveLength(1);
    });

    it('retries after a timeout on an applied refund, and still refunds once', async () => {
      const m = await start(vendor);
      m.emulator.inject({ provider: vendor.name, delay: 400, afterApply: true });
      await refundWith(m, vendor, { timeout: 100, maxRetries: 1 });
      expect(m.emulator.ledger.refunds()).toHaveLength(1);
    });

    it('retries after the connection dropped on an applied refund, and still refunds once', async () => {
      const m = await start(vendor);
      m.emulator.inject({ provider: vendor.name, reset: true, afterApply: true });
      await refundWith(m, vendor, { maxRetries: 1 });
      expect(m.emulator.ledger.refunds()).toHaveLength(1);
    });
  });

  describe('a RefCampaign partial refund, which has no idempotency key', () => {
    const rc = vendors.find((vendor) => vendor.name === 'refcampaign');
    if (!rc?.partial) throw new Error('vendor table is incomplete');

    it.each([
      ['a 500 after applying', { status: 500, headers: { 'retry-after': '0' } }, ServerError],
      ['a dropped connection after applying', { reset: true }, ConnectionError],
    ])('is not retried after %s: applied once, and the error says it is ambiguous', async (_, fault, ErrorClass) => {
      const m = await start(rc);
      m.emulator.inject({ provider: 'refcampaign', afterApply: true, ...fault });
      const error = await refundWith(m, rc, rc.partial).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErrorClass);
      expect(error).toMatchObject({ retryable: false });
      expect((error as Error).message).toMatch(/may or may not have been applied/);
      expect(m.emulator.ledger.refunds()).toHaveLength(1);
    });
  });

  it("honours Affonso's Retry-After when its burst limit is hit", async () => {
    const affonso = vendors.find((vendor) => vendor.name === 'affonso');
    if (!affonso?.partial) throw new Error('vendor table is incomplete');
    const m = await start(affonso, { rateLimits: { affonso: [{ limit: 100, interval: 60_000 }, { limit: 1, interval: 1_000 }] } });
    const started = performance.now();
    await refundWith(m, affonso, affonso.partial);
    await refundWith(m, affonso, affonso.partial);
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
    expect(m.emulator.ledger.refunds()).toHaveLength(2);
  });
});
