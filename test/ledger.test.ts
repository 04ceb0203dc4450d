// The refund ledger's rules, in one process (memoryLedger): claim before sending, record after,
// replay what was applied, wait for what another call is sending, re-send only where the vendor
// deduplicates, hold an ambiguous RefCampaign partial refund for an operator, and fail closed
// when the ledger cannot be reached. The same rules on real Redis and PostgreSQL, across
// processes: test/fleet/*.
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  LedgerUnavailableError,
  RefundInProgressError,
  UnsettledRefundError,
  ValidationError,
  createAffixo,
  createRefCampaign,
  decideClaim,
  defineLedger,
  memoryLedger,
  refund,
  refundMany,
  type ClaimRequest,
  type LedgerEntry,
  type RefundLedger,
} from '../src/index.js';
import { refundsFromStripeEvent } from '../src/stripe/index.js';
import { json, mockPost, server, useVendorMock } from './support/vendor-mock.js';

useVendorMock();

const AFFIXO_URL = 'https://go.affixo.dev/v1/track/refund';
const RC_URL = 'https://app.refcampaign.com/api/v1/conversions/refund';
const AFFIXO_KEY = 'sa_live_ledger_test_0001';
const RC_KEY = 'rc_live_ledger_test_0001';
const fast = { rateLimit: false as const, maxRetries: 0 };
const rcOk = () => json({ success: true, data: { success: true, conversionId: 'conv_1', alreadyRefunded: false } });
const usd = (value: number) => ({ value, currency: 'USD' });
const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: unknown) => ({ error: error as Error & Record<string, unknown> }));

describe('decideClaim: the rules every store applies atomically', () => {
  const key = { provider: 'refcampaign' as const, account: 'abc123', idempotencyKey: 'k1' };
  const request = (fields: Partial<ClaimRequest> = {}): ClaimRequest => ({ holder: 'h2', leaseMs: 1_000, deadline: 10_000, dedupes: true, conversionId: 'order_1', ...fields });
  const entry = (fields: Partial<LedgerEntry>): LedgerEntry => ({
    ...key,
    id: 'refcampaign:abc123:k1',
    state: 'in_flight',
    conversionId: 'order_1',
    holder: 'h1',
    leaseUntil: 2_000,
    attempts: 1,
    createdAt: 0,
    updatedAt: 0,
    expiresAt: 100_000,
    ...fields,
  });

  it.each([
    ['nothing there', undefined, {}, 'claimed', 'in_flight'],
    ['an expired entry', entry({ state: 'applied', expiresAt: 500 }), {}, 'claimed', 'in_flight'],
    ['applied', entry({ state: 'applied' }), {}, 'applied', undefined],
    ['in flight, lease running', entry({}), {}, 'busy', undefined],
    ['in flight, holder dead, vendor deduplicates', entry({ leaseUntil: 900 }), {}, 'claimed', 'in_flight'],
    ['in flight, holder dead, vendor cannot deduplicate', entry({ leaseUntil: 900 }), { dedupes: false }, 'ambiguous', 'ambiguous'],
    ['ambiguous, vendor deduplicates', entry({ state: 'ambiguous' }), {}, 'claimed', 'in_flight'],
    ['ambiguous, vendor cannot deduplicate', entry({ state: 'ambiguous' }), { dedupes: false }, 'ambiguous', undefined],
    ['anything, after the deadline', undefined, { deadline: 999 }, 'late', undefined],
  ] as const)('%s → %s', (_, current, fields, outcome, written) => {
    const { claim, write } = decideClaim(current, key, request(fields), 1_000, 50_000);
    expect(claim.outcome).toBe(outcome);
    expect(write?.state).toBe(written);
    if (write?.state === 'in_flight') expect(write).toMatchObject({ holder: 'h2', leaseUntil: 2_000, expiresAt: 51_000 });
  });
});

describe('refund() through a ledger', () => {
  it('claims before sending; the same key again resolves to the stored result, sending nothing', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(AFFIXO_URL, json({ ok: true }));
    const provider = createAffixo({ apiKey: AFFIXO_KEY, ledger, ...fast });
    const first = await refund({ provider, conversionId: 'order_1', idempotencyKey: 'k-replay' });
    const again = await refund({ provider: createAffixo({ apiKey: AFFIXO_KEY, ledger, ...fast }), conversionId: 'order_1', idempotencyKey: 'k-replay' });
    expect(calls).toHaveLength(1);
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ status: 'refunded', duplicate: true, raw: { ok: true } });
    expect(again.warnings.at(-1)).toMatch(/^replayed from the refund ledger \(affixo:[0-9a-f]{32}:k-replay\): nothing was sent$/);
    const [entry] = await ledger.list();
    expect(entry).toMatchObject({ state: 'applied', attempts: 1, conversionId: 'order_1' });
    // No secret is stored: the account is a fingerprint.
    expect(JSON.stringify(await ledger.list())).not.toContain(AFFIXO_KEY);
  });

  it('two calls with one key at once: one request; the other waits and resolves to it as a duplicate', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(RC_URL, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return rcOk()();
    });
    const options = { conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_1' };
    const results = await Promise.all([
      refund({ provider: createRefCampaign({ apiKey: RC_KEY, ledger, ...fast }), ...options }),
      refund({ provider: createRefCampaign({ apiKey: RC_KEY, ledger, ...fast }), ...options }),
    ]);
    expect(calls).toHaveLength(1);
    expect(results.map((result) => result.duplicate).sort()).toEqual([false, true]);
  });

  it('waiting past its own budget for another call fails retryable, not ambiguous, sending nothing', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(RC_URL, rcOk());
    const provider = createRefCampaign({ apiKey: RC_KEY, ledger, ...fast });
    // Another process holds the key (its claim, made here directly).
    const account = (await stealClaim(ledger, provider, 're_busy', 60_000)).account;
    const { error } = (await settle(refund({ provider, conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_busy', totalTimeout: 300 }))) as { error: Error };
    expect(RefundInProgressError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ retryable: true, ambiguous: false });
    expect(error.message).toContain(`refcampaign:${account}:re_busy`);
    expect(calls).toHaveLength(0);
  });

  it('a definite failure releases the claim: the next call sends again', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(RC_URL, json({ success: false, error: { code: 'NOT_FOUND', message: 'no such conversion' } }, 404), rcOk());
    const provider = createRefCampaign({ apiKey: RC_KEY, ledger, ...fast });
    const options = { provider, conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_404' };
    await expect(refund(options)).rejects.toMatchObject({ status: 404, ambiguous: false });
    expect(await ledger.list()).toEqual([]);
    await expect(refund(options)).resolves.toMatchObject({ duplicate: false });
    expect(calls).toHaveLength(2);
  });

  it('an ambiguous RefCampaign partial refund is held for an operator: nothing is sent until it is settled', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(RC_URL, json({ success: false, error: { code: 'SERVER_ERROR' } }, 500), rcOk());
    const provider = createRefCampaign({ apiKey: RC_KEY, ledger, ...fast });
    const options = { provider, conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_amb' };
    await expect(refund(options)).rejects.toMatchObject({ status: 500, ambiguous: true, retryable: false });
    const [entry] = await ledger.list({ state: 'ambiguous' });
    expect(entry?.error).toMatch(/^RefCampaign answered 500 SERVER_ERROR/);
    for (let time = 0; time < 2; time += 1) {
      const { error } = (await settle(refund(options))) as unknown as { error: UnsettledRefundError };
      expect(UnsettledRefundError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ ambiguous: true, retryable: false, ledgerId: entry?.id });
      expect(error.message).toContain(`clawback ledger resolve ${entry?.id} --applied (or --not-applied to let the next call send it)`);
    }
    expect(calls).toHaveLength(1);
    // Settled as not applied: the next call sends it.
    await ledger.resolve(entry?.id as string, 'not_applied');
    await expect(refund(options)).resolves.toMatchObject({ duplicate: false });
    expect(calls).toHaveLength(2);
  });

  it('settled as applied by an operator: later calls resolve to it, sending nothing', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(RC_URL, json({}, 503));
    const provider = createRefCampaign({ apiKey: RC_KEY, ledger, ...fast });
    const options = { provider, conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_settled' };
    await expect(refund(options)).rejects.toMatchObject({ ambiguous: true });
    const [entry] = await ledger.list({ state: 'ambiguous' });
    expect(await ledger.resolve(entry?.id as string, 'applied')).toMatchObject({ state: 'applied' });
    await expect(refund(options)).resolves.toMatchObject({ duplicate: true, amount: usd(500), status: 'accepted' });
    expect(calls).toHaveLength(1);
  });

  it('where the vendor deduplicates, an ambiguous outcome is sent again, once per call, with the same key', async () => {
    const ledger = memoryLedger();
    const calls = mockPost(AFFIXO_URL, json({ error: 'conversion_failed' }, 500), json({ ok: true }));
    const provider = createAffixo({ apiKey: AFFIXO_KEY, ledger, ...fast });
    await expect(refund({ provider, conversionId: 'order_1', idempotencyKey: 'k-again' })).rejects.toMatchObject({ ambiguous: true, retryable: true });
    const result = await refund({ provider, conversionId: 'order_1', idempotencyKey: 'k-again' });
    expect(calls.map((call) => call.body)).toEqual([{ external_id: 'order_1' }, { external_id: 'order_1' }]);
    expect(result.warnings.at(-1)).toMatch(/^sent again after an ambiguous outcome/);
    expect((await ledger.list())[0]).toMatchObject({ state: 'applied', attempts: 2 });
  });

  it('a holder that died: sent again where the vendor deduplicates; a RefCampaign partial refund becomes ambiguous', async () => {
    const ledger = memoryLedger();
    const affixoCalls = mockPost(AFFIXO_URL, json({ ok: true }));
    const affixo = createAffixo({ apiKey: AFFIXO_KEY, ledger, ...fast });
    await stealClaim(ledger, affixo, 'k-dead', 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(refund({ provider: affixo, conversionId: 'order_1', idempotencyKey: 'k-dead' })).resolves.toMatchObject({ duplicate: false });
    expect(affixoCalls).toHaveLength(1);

    const rcCalls = mockPost(RC_URL, rcOk());
    const refcampaign = createRefCampaign({ apiKey: RC_KEY, ledger, ...fast });
    await stealClaim(ledger, refcampaign, 're_dead', 1, false);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const { error } = (await settle(refund({ provider: refcampaign, conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_dead' }))) as { error: Error };
    expect(UnsettledRefundError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/the process sending it stopped before recording how it ended/);
    expect(rcCalls).toHaveLength(0);
    expect(await ledger.list({ state: 'ambiguous' })).toHaveLength(1);
  });

  it('fails closed: a ledger that errs, or never answers, sends nothing and fails retryable, not ambiguous, within the budget', async () => {
    const calls = mockPost(AFFIXO_URL, json({ ok: true }));
    const failing = defineLedger({ ...memoryLedger(), claim: () => Promise.reject(new Error('Connection is closed.')) });
    const silent = defineLedger({ ...memoryLedger(), claim: () => new Promise<never>(() => {}) });
    for (const ledger of [failing, silent]) {
      const started = performance.now();
      const { error } = (await settle(refund({ provider: createAffixo({ apiKey: AFFIXO_KEY, ledger, ...fast }), conversionId: 'order_1', totalTimeout: 200 }))) as { error: Error };
      expect(LedgerUnavailableError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ retryable: true, ambiguous: false });
      expect(error.message).toMatch(/^The refund ledger could not claim this refund \((Connection is closed\.|no answer within \d+ ms)\), so nothing was sent to Affixo/);
      expect(performance.now() - started).toBeLessThan(5_000);
    }
    expect(calls).toHaveLength(0);
  });

  it('with a ledger, totalTimeout defaults to 120 s, and the claim\'s lease is that plus a margin of at most 10 s', async () => {
    const ledger = memoryLedger();
    let lease = 0;
    server.use(
      http.post(AFFIXO_URL, async () => {
        const [entry] = await ledger.list();
        lease = (entry?.leaseUntil ?? 0) - Date.now();
        return HttpResponse.json({ ok: true });
      }),
    );
    await refund({ provider: createAffixo({ apiKey: AFFIXO_KEY, ledger, ...fast }), conversionId: 'order_1' });
    expect(lease).toBeGreaterThan(119_000);
    expect(lease).toBeLessThanOrEqual(130_000);
  });
});

describe('the ledger setting', () => {
  it('takes a store only through defineLedger(), which attaches the rules, and says so', () => {
    const { ...plain } = memoryLedger();
    expect(() => createAffixo({ apiKey: AFFIXO_KEY, ledger: plain as never })).toThrow(
      'Invalid createAffixo() settings: ledger: must be a refund ledger: memoryLedger(), redisLedger(redis), postgresLedger(pool), or defineLedger(yourStore), got object',
    );
    expect(() => createAffixo({ apiKey: AFFIXO_KEY, ledger: defineLedger(plain) })).not.toThrow();
  });
});

describe('RefCampaign partial refunds, kept to one send by the ledger', () => {
  it('refund() accepts a caller key on one with a ledger, and refuses it without', async () => {
    mockPost(RC_URL, rcOk());
    const options = { conversionId: 'order_1', amount: usd(500), idempotencyKey: 're_caller' };
    const refused = await settle(refund({ provider: createRefCampaign({ apiKey: RC_KEY, ...fast }), ...options }));
    expect(ValidationError.isInstance((refused as { error: unknown }).error)).toBe(true);
    await expect(refund({ provider: createRefCampaign({ apiKey: RC_KEY, ledger: memoryLedger(), ...fast }), ...options })).resolves.toMatchObject({
      idempotencyKey: 're_caller',
      amount: usd(500),
    });
  });

  it('refundMany accepts them with a ledger (a batch run again replays), and refuses them without', async () => {
    const calls = mockPost(RC_URL, rcOk());
    const items = (provider: ReturnType<typeof createRefCampaign>) => [{ provider, conversionId: 'order_1', amount: usd(500), refundId: 're_a' }];
    const [refused] = await refundMany(items(createRefCampaign({ apiKey: RC_KEY, ...fast })));
    expect(refused).toMatchObject({ ok: false, error: { field: 'amount' } });
    const ledgered = createRefCampaign({ apiKey: RC_KEY, ledger: memoryLedger(), ...fast });
    const first = await refundMany(items(ledgered));
    const again = await refundMany(items(ledgered));
    expect([first[0]?.ok && first[0].result.duplicate, again[0]?.ok && again[0].result.duplicate]).toEqual([false, true]);
    expect(calls).toHaveLength(1);
  });

  it('clawback/stripe turns them into items keyed by the re_ id instead of skipping them', () => {
    const event = {
      id: 'evt_1',
      type: 'refund.created',
      data: { object: { id: 're_partial', object: 'refund', amount: 500, currency: 'usd', status: 'succeeded', charge: 'ch_1' } },
    };
    const options = { conversionId: () => 'order_1' };
    const without = refundsFromStripeEvent(event, { ...options, provider: createRefCampaign({ apiKey: RC_KEY }) });
    expect(without.items).toEqual([]);
    const provider = createRefCampaign({ apiKey: RC_KEY, ledger: memoryLedger() });
    const withLedger = refundsFromStripeEvent(event, { ...options, provider });
    expect(withLedger.items).toEqual([{ provider, conversionId: 'order_1', amount: usd(500), refundId: 're_partial', reason: 'Stripe refund re_partial' }]);
  });
});

/** Claims `idempotencyKey` as another process would, with a lease of `leaseMs`; resolves to the key used. */
async function stealClaim(ledger: RefundLedger, provider: { provider: string }, idempotencyKey: string, leaseMs: number, dedupes = true) {
  // The account is a fingerprint of the provider's credentials: learn it from a ledger that
  // records the key it is asked to claim and refuses (so nothing is sent).
  let seen: Parameters<RefundLedger['claim']>[0] | undefined;
  const probe = defineLedger({ ...memoryLedger(), claim: async (key: Parameters<RefundLedger['claim']>[0]) => ((seen = key), Promise.reject(new Error('probe'))) });
  const same = provider.provider === 'affixo' ? createAffixo({ apiKey: AFFIXO_KEY, ledger: probe, ...fast }) : createRefCampaign({ apiKey: RC_KEY, ledger: probe, ...fast });
  await settle(refund({ provider: same, conversionId: 'order_1' } as never));
  const key = { ...(seen as NonNullable<typeof seen>), idempotencyKey };
  await ledger.claim(key, { holder: 'another-process', leaseMs, deadline: Date.now() + 60_000, dedupes, conversionId: 'order_1' });
  return key;
}
