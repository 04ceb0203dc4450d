import { createHash } from 'node:crypto';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  NotFoundError,
  ValidationError,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  deriveIdempotencyKey,
  refundMany,
  type RefundManyProgress,
} from 'clawback';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, createEmulator } from 'clawback/testing';
import { emulatorHandlers } from 'clawback/testing/msw';

// No emulated vendor limit: the client-side limiter is what these tests look at.
const emulator = createEmulator({ rateLimits: { affonso: false } });
const server = setupServer(...emulatorHandlers(emulator));
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => emulator.reset());
afterAll(() => server.close());

const usd = (value: number) => ({ value, currency: 'USD' });
const affonso = (settings: Parameters<typeof createAffonso>[0] = {}) =>
  createAffonso({ apiKey: EMULATOR_API_KEYS.affonso, rateLimit: false, ...settings });

function seedAffonso(count: number, prefix = 'com') {
  const ids = Array.from({ length: count }, (_, index) => `${prefix}_${index + 1}`);
  emulator.seed({ affonso: ids.map((id) => ({ id, sale: usd(10_000) })) });
  return ids;
}

describe('refundMany', () => {
  it('resolves to one outcome per item, in order, and never rejects for one item', async () => {
    seedAffonso(2);
    const provider = affonso();
    const outcomes = await refundMany([
      { provider, conversionId: 'com_1', amount: usd(2_500), refundId: 're_1' },
      { provider, conversionId: 'com_missing' },
      { provider, conversionId: '' },
      { provider, conversionId: 'com_2' },
    ]);
    expect(outcomes.map((outcome) => [outcome.index, outcome.ok])).toEqual([
      [0, true],
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(outcomes[1]?.ok === false && outcomes[1].error).toBeInstanceOf(NotFoundError);
    expect(outcomes[2]?.ok === false && outcomes[2].error).toBeInstanceOf(ValidationError);
    expect(outcomes[3]).toMatchObject({ ok: true, result: { status: 'refunded', conversionId: 'com_2' } });
    expect(emulator.ledger.refunds({ provider: 'affonso' })).toHaveLength(2);
  });

  it('derives each key from the item, so the same batch run twice refunds once', async () => {
    const ids = seedAffonso(10);
    const provider = affonso();
    const batch = ids.map((conversionId, index) => ({ provider, conversionId, amount: usd(1_000), refundId: `re_${index}` }));

    const first = await refundMany(batch, { concurrency: 3 });
    const again = await refundMany(batch, { concurrency: 3 });

    expect(first.every((outcome) => outcome.ok && !outcome.result.duplicate)).toBe(true);
    expect(again.every((outcome) => outcome.ok && outcome.result.duplicate)).toBe(true);
    expect(again.map((outcome) => outcome.ok && outcome.result.idempotencyKey)).toEqual(
      first.map((outcome) => outcome.ok && outcome.result.idempotencyKey),
    );
    expect(emulator.ledger.refunds({ provider: 'affonso' })).toHaveLength(10);
    for (const id of ids) expect(emulator.ledger.conversion('affonso', id)).toMatchObject({ refunded: 1_000 });
  });

  it('derives keys exactly as documented (cbm2: from the refund id, or the conversion for a full refund)', async () => {
    const provider = affonso();
    const key = (...material: unknown[]) =>
      `cbm2_${createHash('sha256').update(JSON.stringify(['clawback.refundMany.v2', 'affonso', 'com_1', ...material])).digest('hex').slice(0, 40)}`;
    const amount = { value: 4950, currency: 'usd' };
    expect(await deriveIdempotencyKey({ provider, conversionId: 'com_1', amount, refundId: 're_1' })).toBe(key('refund', 're_1'));
    expect(await deriveIdempotencyKey({ provider, conversionId: 'com_1' })).toBe(key('full'));
    expect(await deriveIdempotencyKey({ provider, conversionId: 'com_1', amount }, { allowAmountKeys: true })).toBe(key('amount', 4950, 'USD'));
    await expect(deriveIdempotencyKey({ provider, conversionId: 'com_1', amount })).rejects.toThrow(/refundId: is required for a partial refund/);
  });

  it('two equal partial refunds of one conversion, each with its refund id, are two refunds, in one batch or two', async () => {
    seedAffonso(1);
    const provider = affonso();
    const [first] = await refundMany([{ provider, conversionId: 'com_1', amount: usd(1_000), refundId: 're_A' }]);
    const [second] = await refundMany([{ provider, conversionId: 'com_1', amount: usd(1_000), refundId: 're_B' }]);
    expect([first?.ok && first.result.duplicate, second?.ok && second.result.duplicate]).toEqual([false, false]);
    expect(emulator.ledger.refunds({ provider: 'affonso', conversionId: 'com_1' }).map((refund) => refund.amount)).toEqual([1_000, 1_000]);
    // The second batch again (a redelivered webhook, a re-run): replayed, not refunded a third time.
    const [again] = await refundMany([{ provider, conversionId: 'com_1', amount: usd(1_000), refundId: 're_B' }]);
    expect(again).toMatchObject({ ok: true, result: { duplicate: true } });
    expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 2_000 });
  });

  it('refuses a partial refund with neither refundId nor idempotencyKey, naming refundId, before sending anything', async () => {
    seedAffonso(1);
    const provider = affonso();
    const outcomes = await refundMany([
      { provider, conversionId: 'com_1', amount: usd(1_000) },
      { provider, conversionId: 'com_1', amount: usd(1_000), idempotencyKey: 'mine-1' },
    ]);
    expect(outcomes[0]?.ok === false && outcomes[0].error).toBeInstanceOf(ValidationError);
    expect(outcomes[0]?.ok === false && (outcomes[0].error as ValidationError).field).toBe('refundId');
    expect(outcomes[0]?.ok === false && outcomes[0].error.message).toMatch(/Stripe re_…, a Shopify refund id/);
    expect(outcomes[1]?.ok).toBe(true);
    expect(emulator.ledger.refunds({ provider: 'affonso' })).toHaveLength(1);
  });

  it('allowAmountKeys: true derives the key from the amount again, and two equal partial refunds then collapse (the documented risk)', async () => {
    seedAffonso(1);
    const provider = affonso();
    await refundMany([{ provider, conversionId: 'com_1', amount: usd(1_000) }], { allowAmountKeys: true });
    const [second] = await refundMany([{ provider, conversionId: 'com_1', amount: usd(1_000) }], { allowAmountKeys: true });
    expect(second).toMatchObject({ ok: true, result: { duplicate: true } });
    expect(emulator.ledger.refunds({ provider: 'affonso' })).toHaveLength(1);
  });

  it('refuses a refundId that is not a non-empty string', async () => {
    const [outcome] = await refundMany([{ provider: affonso(), conversionId: 'com_1', amount: usd(1), refundId: '  ' }]);
    expect(outcome?.ok === false && (outcome.error as ValidationError).field).toBe('refundId');
  });

  it("keeps a caller's own key", async () => {
    seedAffonso(1);
    const [outcome] = await refundMany([{ provider: affonso(), conversionId: 'com_1', idempotencyKey: 'chargeback-77' }]);
    expect(outcome).toMatchObject({ ok: true, result: { idempotencyKey: 'chargeback-77' } });
  });

  it('refuses an item that would share a key with an earlier one, instead of letting it be taken for a replay', async () => {
    seedAffonso(1);
    const provider = affonso();
    const outcomes = await refundMany([
      { provider, conversionId: 'com_1', amount: usd(1_000), refundId: 're_1' },
      { provider, conversionId: 'com_1', amount: usd(1_000), refundId: 're_1' },
      { provider, conversionId: 'com_1', amount: usd(1_000), idempotencyKey: 'second-one' },
    ]);
    expect(outcomes[0]?.ok).toBe(true);
    expect(outcomes[1]?.ok === false && outcomes[1].error).toBeInstanceOf(ValidationError);
    expect(outcomes[1]?.ok === false && outcomes[1].error.message).toMatch(/same provider, conversionId and refundId as item 0/);
    expect(outcomes[2]?.ok).toBe(true);
    expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 2_000 });
  });

  it('refuses RefCampaign partial refunds, which no key can protect from a second run', async () => {
    emulator.seed({ refcampaign: [{ id: 'order_1', sale: usd(10_000) }, { id: 'order_2', sale: usd(10_000) }] });
    const provider = createRefCampaign({ apiKey: EMULATOR_API_KEYS.refcampaign });
    const outcomes = await refundMany([
      { provider, conversionId: 'order_1', amount: usd(1_000) },
      { provider, conversionId: 'order_2' },
    ]);
    expect(outcomes[0]?.ok === false && outcomes[0].error).toBeInstanceOf(ValidationError);
    expect(outcomes[0]?.ok === false && outcomes[0].error.message).toMatch(/RefCampaign partial refund/);
    expect(outcomes[1]).toMatchObject({ ok: true, result: { status: 'refunded' } });
    expect(emulator.ledger.refunds({ provider: 'refcampaign' })).toHaveLength(1);
  });

  it('keeps at most `concurrency` refunds in flight', async () => {
    const ids = seedAffonso(12);
    emulator.inject({ provider: 'affonso', delay: 30, times: 12 });
    let inFlight = 0;
    let most = 0;
    const provider = affonso({
      onRequest: () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
      },
      onResponse: () => {
        inFlight -= 1;
      },
    });
    await refundMany(
      ids.map((conversionId) => ({ provider, conversionId })),
      { concurrency: 3 },
    );
    expect(most).toBe(3);
  });

  it("goes through the provider's rate limiter: never more than its limit in any window", async () => {
    const ids = seedAffonso(9);
    const sent: number[] = [];
    const provider = affonso({ rateLimit: { limit: 3, interval: 300 }, onRequest: () => sent.push(performance.now()) });
    await refundMany(
      ids.map((conversionId) => ({ provider, conversionId })),
      { concurrency: 9 },
    );
    expect(sent).toHaveLength(9);
    for (const [index, at] of sent.entries()) {
      expect(sent.filter((other) => other >= at && other < at + 290).length, `window from request ${index}`).toBeLessThanOrEqual(3);
    }
  });

  it('reports progress as each item settles, and ignores a callback that throws', async () => {
    const ids = seedAffonso(3);
    const seen: RefundManyProgress[] = [];
    const provider = affonso();
    await refundMany([...ids.map((conversionId) => ({ provider, conversionId })), { provider, conversionId: 'com_missing' }], {
      concurrency: 1,
      onProgress: (progress) => {
        seen.push(progress);
        throw new Error('observer bug');
      },
    });
    expect(seen.map(({ done, total, succeeded, failed }) => [done, total, succeeded, failed])).toEqual([
      [1, 4, 1, 0],
      [2, 4, 2, 0],
      [3, 4, 3, 0],
      [4, 4, 3, 1],
    ]);
    expect(emulator.ledger.refunds()).toHaveLength(3);
  });

  it('ignores an async progress callback that rejects, leaving no unhandled rejection', async () => {
    const ids = seedAffonso(2);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const provider = affonso();
      const outcomes = await refundMany(
        ids.map((conversionId) => ({ provider, conversionId })),
        { onProgress: async () => Promise.reject(new Error('observer bug')) },
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('stops on abort: items not started fail as not sent, those in flight as aborted', async () => {
    const ids = seedAffonso(6);
    emulator.inject({ provider: 'affonso', delay: 200, times: 6 });
    const controller = new AbortController();
    const provider = affonso();
    setTimeout(() => controller.abort(), 50);
    const outcomes = await refundMany(
      ids.map((conversionId) => ({ provider, conversionId })),
      { concurrency: 2, signal: controller.signal },
    );
    expect(outcomes.every((outcome) => !outcome.ok && AbortedError.isInstance(outcome.error))).toBe(true);
    const notStarted = outcomes.slice(2);
    expect(notStarted.every((outcome) => !outcome.ok && outcome.error.message.startsWith('Not sent'))).toBe(true);
    expect(notStarted.every((outcome) => !outcome.ok && outcome.error.retryable && !outcome.error.ambiguous)).toBe(true);
  });

  it('works across vendors in one batch', async () => {
    emulator.seed({
      affonso: [{ id: 'com_1', sale: usd(5_000) }],
      firstpromoter: [{ id: 'sale_1', sale: usd(5_000), lead: { uid: 'lead_1' } }],
    });
    const outcomes = await refundMany([
      { provider: affonso(), conversionId: 'com_1' },
      {
        provider: createFirstPromoter({ apiKey: EMULATOR_API_KEYS.firstpromoter, accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID }),
        conversionId: 'sale_1',
        amount: usd(5_000),
        customer: { uid: 'lead_1' },
        refundId: 're_fp_1',
      },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ onProgress: 'log' }, 'onProgress'],
    [{ signal: {} }, 'signal'],
    [{ parallel: 4 }, 'parallel'],
    [{ allowAmountKeys: 'yes' }, 'allowAmountKeys'],
  ])('refuses the options %j', async (options, field) => {
    const error = await refundMany([], options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('refuses items that are not an array, and items that are not objects', async () => {
    await expect(refundMany('com_1' as never)).rejects.toThrow(ValidationError);
    const [outcome] = await refundMany([null as never]);
    expect(outcome?.ok === false && outcome.error).toBeInstanceOf(ValidationError);
  });
});
