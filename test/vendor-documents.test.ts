// What a 2xx means is what the vendor's document says it means: every body a vendor's reference
// page allows for its success answer is read as a success (fields the mapping would like and the
// page does not promise become warnings when absent), generated from the page itself, and a
// documented field carrying a value the page gives no meaning is an ambiguous failure that quotes
// what the vendor sent.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResponseValidationError, createAffixo, createAffonso, createFirstPromoter, createRefCampaign, refund, type RefundResult } from '../src/index.js';
import { arbitraryFromSchema, openApiFromPage, type JsonSchema } from './support/json-schema-arbitrary.js';
import { empty, json, mockPost, server, useVendorMock } from './support/vendor-mock.js';

useVendorMock();

const page = (name: string) => readFileSync(new URL(`./fixtures/vendor-docs/${name}`, import.meta.url), 'utf8');
const successSchema = (document: Record<string, any>, path: string): JsonSchema =>
  document.paths[path].post.responses['200'].content['application/json'].schema;

const settings = { rateLimit: false as const, maxRetries: 0 };
const affixo = createAffixo({ apiKey: 'sa_live_documents_0001', ...settings });
const affonso = createAffonso({ apiKey: 'sk_live_documents_0001', ...settings });
const refcampaign = createRefCampaign({ apiKey: 'rc_live_documents_0001', ...settings });
const firstpromoter = createFirstPromoter({ apiKey: 'fp_documents_0001', accountId: 'acc_1', ...settings });

const URLS = {
  affixo: 'https://go.affixo.dev/v1/track/refund',
  affonso: 'https://api.affonso.io/v1/conversions/com_1/refund',
  refcampaign: 'https://app.refcampaign.com/api/v1/conversions/refund',
  firstpromoter: 'https://api.firstpromoter.com/api/v2/track/refund',
};

type Outcome = { ok: true; result: RefundResult } | { ok: false; error: ResponseValidationError };
const settle = (promise: Promise<RefundResult>): Promise<Outcome> =>
  promise.then(
    (result) => ({ ok: true as const, result }),
    (error: ResponseValidationError) => ({ ok: false as const, error }),
  );

/** Answers the next call to `url` with `body` (undefined: an empty body). */
function answer(url: string, body: unknown) {
  server.resetHandlers();
  mockPost(url, body === undefined ? empty(200) : json(body as never));
}

const RUNS = { numRuns: 120 };

describe('Affixo: the 200 of its OpenAPI document ({ ok?: boolean, conversion_id?: string })', () => {
  const document = openApiFromPage(page('affixo-refund.md'));
  const schema = successSchema(document, '/v1/track/refund');

  it('every body the document allows is a reversal, but ok: false, an ambiguous failure quoting it', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryFromSchema(schema, document), async (body) => {
        answer(URLS.affixo, body);
        const outcome = await settle(refund({ provider: affixo, conversionId: 'order_1' }));
        const ok = (body as { ok?: unknown }).ok;
        if (ok === false) {
          expect(outcome.ok).toBe(false);
          if (outcome.ok) return;
          expect(ResponseValidationError.isInstance(outcome.error)).toBe(true);
          expect(outcome.error).toMatchObject({ ambiguous: true, retryable: true });
          expect(outcome.error.message).toContain('"ok":false');
          expect(outcome.error.message).not.toMatch(/does not match/);
          return;
        }
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) return;
        expect(outcome.result).toMatchObject({ status: 'refunded', duplicate: false, raw: body });
        expect(outcome.result.warnings.some((warning) => warning.startsWith('ok '))).toBe(ok === undefined);
        answer(URLS.affixo, body);
        await expect(affixo.track.refund({ external_id: 'order_1' })).resolves.toEqual(body);
      }),
      RUNS,
    );
  });

  it('200 {} and 200 { conversion_id } are reversals, with a warning that ok was not sent', async () => {
    for (const body of [{}, { conversion_id: 'cv_1' }]) {
      answer(URLS.affixo, body);
      const result = await refund({ provider: affixo, conversionId: 'order_1' });
      expect(result).toMatchObject({ status: 'refunded', raw: body });
      expect(result.warnings).toEqual(['ok was not in Affixo\'s answer: its 200 ("Conversion reversed") is taken as the reversal']);
    }
  });

  it('ok: false is ambiguous and quotes what Affixo sent, not "does not match its schema"', async () => {
    answer(URLS.affixo, { ok: false, conversion_id: 'cv_1' });
    const error = await refund({ provider: affixo, conversionId: 'order_1' }).catch((caught: ResponseValidationError) => caught);
    expect(ResponseValidationError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ ambiguous: true, retryable: true, status: 200 });
    expect((error as Error).message).toBe(
      'Affixo answered 200 with "ok": false, which its documentation gives no meaning (it sent {"ok":false,"conversion_id":"cv_1"}). The refund was probably applied; retrying with the same idempotencyKey is safe and returns its state.',
    );
  });
});

describe('FirstPromoter: the 200 of its OpenAPI document (no field required)', () => {
  const document = openApiFromPage(page('firstpromoter-refund.md'));
  const schema = successSchema(document, '/refund');
  const call = () =>
    refund({ provider: firstpromoter, conversionId: 'sale_1', amount: { value: 1_000, currency: 'USD' }, customer: { email: 'lead@example.com' } });

  it('every body the document allows is a refund recorded; the commission is read when reported in cash', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryFromSchema(schema, document), async (body) => {
        answer(URLS.firstpromoter, body);
        const outcome = await settle(call());
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) return;
        const reward = (body as { reward?: { amount?: number; unit?: string } }).reward;
        expect(outcome.result).toMatchObject({ status: 'accepted', duplicate: false, raw: body, amount: { value: 1_000, currency: 'USD' } });
        expect(outcome.result.commission).toEqual(reward?.unit === 'cash' && reward.amount !== undefined ? { value: reward.amount } : undefined);
        expect(outcome.result.warnings.some((warning) => warning.startsWith('reward '))).toBe(reward === undefined);
        answer(URLS.firstpromoter, body);
        await expect(firstpromoter.track.refund({ event_id: 'evt_1', amount: '1000', email: 'lead@example.com' })).resolves.toEqual(body);
      }),
      RUNS,
    );
  });

  it('200 { type, amount_cents } without an id is a refund recorded', async () => {
    answer(URLS.firstpromoter, { type: 'refund', amount_cents: -1000 });
    const result = await call();
    expect(result).toMatchObject({ status: 'accepted', duplicate: false, raw: { type: 'refund', amount_cents: -1000 } });
    expect(result.warnings).toEqual(['reward was not in FirstPromoter\'s answer, so the commission change is not known']);
  });
});

describe('Affonso: the response its reference page describes ({ success: true, data: conversion })', () => {
  const schema = JSON.parse(page('affonso-refund-200.schema.json')) as JsonSchema;
  const statusOf: Record<string, string> = { refunded: 'refunded', partial_refunded: 'partially_refunded' };

  it('every body the page allows is a refund applied; sales_status gives the status when present', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryFromSchema(schema), async (body) => {
        answer(URLS.affonso, body);
        const outcome = await settle(refund({ provider: affonso, conversionId: 'com_1', amount: { value: 2_500, currency: 'USD' } }));
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) return;
        const data = (body as { data: { sales_status?: string; replayed?: boolean } }).data;
        expect(outcome.result).toMatchObject({ status: (data.sales_status && statusOf[data.sales_status]) ?? 'accepted', duplicate: data.replayed === true, raw: body });
        expect(outcome.result.warnings.some((warning) => warning.startsWith('data.sales_status '))).toBe(data.sales_status === undefined);
        answer(URLS.affonso, body);
        await expect(affonso.conversions.refund('com_1', { external_event_id: 'evt_1' })).resolves.toEqual(data);
      }),
      RUNS,
    );
  });

  it('a conversion without id or status is a refund applied', async () => {
    answer(URLS.affonso, { success: true, data: { sales_status: 'partial_refunded' } });
    await expect(refund({ provider: affonso, conversionId: 'com_1', amount: { value: 2_500, currency: 'USD' } })).resolves.toMatchObject({
      status: 'partially_refunded',
      warnings: [],
    });
  });

  it('success: false without an error envelope is ambiguous and quotes the body', async () => {
    answer(URLS.affonso, { success: false, data: { sales_status: 'refunded' } });
    const error = await refund({ provider: affonso, conversionId: 'com_1' }).catch((caught: Error) => caught);
    expect(error).toMatchObject({ ambiguous: true, retryable: true });
    expect((error as Error).message).toMatch(/^Affonso answered 200 with "success": false, which its documentation gives no meaning \(it sent \{"success":false,/);
  });
});

describe('RefCampaign: its reference page documents no 200 body', () => {
  const schema = JSON.parse(page('refcampaign-refund-200.schema.json')) as JsonSchema;

  it('an empty body, or any part of the body its SDK reads, is a refund applied', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(arbitraryFromSchema(schema), { nil: undefined }), fc.boolean(), async (body, partial) => {
        answer(URLS.refcampaign, body);
        const outcome = await settle(
          refund({ provider: refcampaign, conversionId: 'order_1', ...(partial ? { amount: { value: 500, currency: 'USD' } } : {}) }),
        );
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) return;
        const envelope = body as { data?: { alreadyRefunded?: boolean }; meta?: { requestId?: string } } | undefined;
        const already = envelope?.data?.alreadyRefunded;
        expect(outcome.result).toMatchObject({ duplicate: already === true, raw: body });
        expect(outcome.result.requestId).toBe(envelope?.meta?.requestId);
        expect(outcome.result.warnings.some((warning) => warning.startsWith('data.alreadyRefunded '))).toBe(already === undefined);
        answer(URLS.refcampaign, body);
        await expect(refcampaign.conversions.refund({ externalId: 'order_1' })).resolves.toEqual(body);
      }),
      RUNS,
    );
  });

  it('success: false in a 2xx, without an error envelope, is ambiguous and quotes the body', async () => {
    answer(URLS.refcampaign, { success: false });
    const error = await refund({ provider: refcampaign, conversionId: 'order_1' }).catch((caught: Error) => caught);
    expect(error).toMatchObject({ ambiguous: true, retryable: true });
    expect((error as Error).message).toContain('(it sent {"success":false})');
  });
});
