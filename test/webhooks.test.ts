import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClawbackError, ValidationError, createRefCampaign, refund } from 'clawback';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_SIGNATURE_HEADER, verifyWebhookSignature } from 'clawback/compat/refcampaign';
import { signWebhook, startEmulator } from 'clawback/testing';
import { WebhookVerificationError, verifyWebhook, type WebhookVerificationCode } from 'clawback/webhooks';

const SECRET = 'whsec_test_6f1d2c9a8b7e4f30';
const NOW = 1_763_900_000; // unix seconds
const nowMs = NOW * 1000;

// Signed here with node:crypto, independently of the code under test.
const hmac = (secret: string, t: number | string, body: string | Uint8Array) =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

const refCampaignBody = JSON.stringify({
  event: 'conversion.refunded',
  data: { conversionId: 'conv_abc', amount: 4990, currency: 'EUR' },
  timestamp: '2025-11-23T12:13:20.000Z',
  idempotencyKey: 'conversion.refunded:conversion:conv_abc',
});
const affonsoBody = JSON.stringify({
  id: 'evt_abc123',
  type: 'transaction.updated',
  createdAt: '2025-11-23T12:13:20.000Z',
  data: { id: 'com_1', sales_status: 'partial_refunded' },
});

type Form = { name: string; provider: 'refcampaign' | 'affonso'; body: string; headers: (t: number | string, signature: string) => Record<string, string> };
const forms: Form[] = [
  { name: 'RefCampaign', provider: 'refcampaign', body: refCampaignBody, headers: (t, v1) => ({ 'X-RefCampaign-Signature': `t=${t},v1=${v1}` }) },
  { name: 'Affonso t=/v1= (docs.affonso.io)', provider: 'affonso', body: affonsoBody, headers: (t, v1) => ({ 'X-Affonso-Signature': `t=${t},v1=${v1}` }) },
  {
    name: 'Affonso X-Affonso-Timestamp + sha256= (help centre)',
    provider: 'affonso',
    body: affonsoBody,
    headers: (t, v1) => ({ 'X-Affonso-Timestamp': String(t), 'X-Affonso-Signature': `sha256=${v1}` }),
  },
  {
    name: 'Affonso X-Affonso-Timestamp + bare hex',
    provider: 'affonso',
    body: affonsoBody,
    headers: (t, v1) => ({ 'X-Affonso-Timestamp': String(t), 'X-Affonso-Signature': v1 }),
  },
];

async function refusal(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WebhookVerificationError);
  const refused = error as WebhookVerificationError;
  expect(refused).toBeInstanceOf(ClawbackError);
  expect(refused.message).not.toContain(SECRET);
  expect(JSON.stringify(refused)).not.toContain(SECRET);
  return refused;
}

const expectCode = async (promise: Promise<unknown>, code: WebhookVerificationCode) => expect((await refusal(promise)).code).toBe(code);

describe.each(forms)('verifyWebhook: $name', ({ provider, body, headers }) => {
  const signed = (t: number | string = NOW, secret = SECRET, payload = body) => headers(t, hmac(secret, t, payload));
  const verify = (options: Partial<Parameters<typeof verifyWebhook>[1]> = {}) =>
    verifyWebhook(provider, { payload: body, headers: signed(), secret: SECRET, now: nowMs, ...options });

  it('accepts a valid signature: string payload, plain-object headers', async () => {
    const event = await verify();
    expect(event).toMatchObject({ provider, raw: JSON.parse(body), data: JSON.parse(body).data, signedAt: new Date(nowMs) });
  });

  it('accepts bytes (a Buffer, a Uint8Array) and a Headers, any case', async () => {
    const headerObject = signed();
    const lower = Object.fromEntries(Object.entries(headerObject).map(([name, value]) => [name.toLowerCase(), value]));
    await expect(verify({ payload: Buffer.from(body) })).resolves.toMatchObject({ provider });
    await expect(verify({ payload: new TextEncoder().encode(body), headers: new Headers(headerObject) })).resolves.toMatchObject({ provider });
    await expect(verify({ headers: lower })).resolves.toMatchObject({ provider });
  });

  it('refuses a tampered body, even one only re-serialised', async () => {
    await expectCode(verify({ payload: body.replace('com_1', 'com_2').replace('4990', '9990') }), 'signature_mismatch');
    await expectCode(verify({ payload: JSON.stringify(JSON.parse(body), null, 2) }), 'signature_mismatch');
  });

  it('refuses the wrong secret', async () => {
    await expectCode(verify({ secret: 'whsec_someone_else' }), 'signature_mismatch');
    await expectCode(verify({ headers: signed(NOW, 'whsec_someone_else') }), 'signature_mismatch');
  });

  it('refuses a timestamp outside the window, either way; accepts the edge of it', async () => {
    await expectCode(verify({ now: nowMs + 301_000 }), 'timestamp_out_of_tolerance');
    await expectCode(verify({ now: nowMs - 301_000 }), 'timestamp_out_of_tolerance');
    await expect(verify({ now: nowMs + 300_000 })).resolves.toBeDefined();
    await expect(verify({ now: new Date(nowMs + 3_600_000), toleranceSeconds: 3_600 })).resolves.toBeDefined();
    // A signature that is valid for its (old) timestamp: a replay.
    const old = NOW - 86_400;
    await expectCode(verify({ headers: signed(old) }), 'timestamp_out_of_tolerance');
  });

  it('refuses a missing signature header', async () => {
    await expectCode(verify({ headers: {} }), 'missing_signature');
    await expectCode(verify({ headers: new Headers({ 'content-type': 'application/json' }) }), 'missing_signature');
  });

  it('refuses malformed signature headers', async () => {
    const good = hmac(SECRET, NOW, body);
    const cases = [headers('soon', good), headers(NOW, good.slice(0, 40)), headers(NOW, `${good.slice(0, 62)}zz`)];
    for (const malformed of cases) await expectCode(verify({ headers: malformed }), 'malformed_signature');
  });

  it('refuses a body that is not JSON, or not the documented envelope, even when signed', async () => {
    for (const [payload, code] of [
      ['not json', 'invalid_json'],
      [new Uint8Array([0xff, 0xfe, 0x7b]), 'invalid_json'],
      ['{"data":{}}', 'invalid_payload'],
    ] as const) {
      await expectCode(verify({ payload, headers: signed(NOW, SECRET, payload as never) }), code);
    }
  });
});

describe('verifyWebhook: per vendor', () => {
  it('RefCampaign: exposes the idempotencyKey; several v1= (a rotated secret) match if one does', async () => {
    const v1 = hmac(SECRET, NOW, refCampaignBody);
    const old = hmac('whsec_old', NOW, refCampaignBody);
    const event = await verifyWebhook('refcampaign', {
      payload: refCampaignBody,
      headers: { [WEBHOOK_SIGNATURE_HEADER]: `t=${NOW},v1=${old},v1=${v1}` },
      secret: SECRET,
      now: nowMs,
    });
    expect(event).toMatchObject({ type: 'conversion.refunded', idempotencyKey: 'conversion.refunded:conversion:conv_abc' });
    expect(event.id).toBeUndefined();
    expect(event.data).toEqual({ conversionId: 'conv_abc', amount: 4990, currency: 'EUR' });
  });

  it('RefCampaign: a header without t= or v1= is malformed', async () => {
    for (const header of [`v1=${hmac(SECRET, NOW, refCampaignBody)}`, `t=${NOW}`, 'garbage']) {
      await expectCode(verifyWebhook('refcampaign', { payload: refCampaignBody, headers: { 'x-refcampaign-signature': header }, secret: SECRET, now: nowMs }), 'malformed_signature');
    }
  });

  it('Affonso: the event id; a bare signature without X-Affonso-Timestamp is malformed', async () => {
    const event = await verifyWebhook('affonso', {
      payload: affonsoBody,
      headers: { 'x-affonso-signature': `t=${NOW},v1=${hmac(SECRET, NOW, affonsoBody)}` },
      secret: SECRET,
      now: nowMs,
    });
    expect(event).toMatchObject({ id: 'evt_abc123', type: 'transaction.updated' });
    await expectCode(
      verifyWebhook('affonso', { payload: affonsoBody, headers: { 'x-affonso-signature': hmac(SECRET, NOW, affonsoBody) }, secret: SECRET, now: nowMs }),
      'malformed_signature',
    );
  });

  it('takes a provider object as well as a name', async () => {
    const event = await verifyWebhook(createRefCampaign({ apiKey: 'rc_test_x' }), {
      payload: refCampaignBody,
      headers: { 'x-refcampaign-signature': `t=${NOW},v1=${hmac(SECRET, NOW, refCampaignBody)}` },
      secret: SECRET,
      now: nowMs,
    });
    expect(event.provider).toBe('refcampaign');
  });

  it('refuses what cannot be a webhook check with a ValidationError naming the field', async () => {
    const base = { payload: refCampaignBody, headers: {}, secret: SECRET };
    const cases: [unknown, unknown, string, RegExp?][] = [
      ['firstpromoter', base, 'provider', /not document which string the HMAC covers/],
      ['affixo', base, 'provider', /documents no webhook signatures/],
      ['stripe', base, 'provider'],
      ['refcampaign', { ...base, payload: JSON.parse(refCampaignBody) }, 'payload', /raw request body/],
      ['refcampaign', { ...base, secret: '' }, 'secret'],
      ['refcampaign', { ...base, headers: 'x' }, 'headers'],
      ['refcampaign', { ...base, toleranceSeconds: 0 }, 'toleranceSeconds'],
      ['refcampaign', { ...base, now: 'yesterday' }, 'now'],
      ['refcampaign', undefined, '(input)'],
    ];
    for (const [provider, options, field, message] of cases) {
      const error = await verifyWebhook(provider as never, options as never).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      if (message) expect((error as ValidationError).message).toMatch(message);
    }
  });
});

describe('clawback/compat/refcampaign: verifyWebhookSignature (synchronous, as @refcampaign/sdk)', () => {
  const header = (t: number = NOW, secret = SECRET, body: string = refCampaignBody) => `t=${t},v1=${hmac(secret, t, body)}`;
  const check = (params: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
    verifyWebhookSignature({ secret: SECRET, payload: refCampaignBody, header: header(), now: nowMs, ...params });

  it('exports the header name and the event types', () => {
    expect(WEBHOOK_SIGNATURE_HEADER).toBe('X-RefCampaign-Signature');
    expect(WEBHOOK_EVENT_TYPES).toEqual(['conversion.created', 'conversion.refunded', 'conversion.commission_paid', 'conversion.disputed', 'conversion.dispute_resolved']);
  });

  it('returns true for a valid signature, string or bytes, without a promise', () => {
    expect(check({})).toBe(true);
    expect(check({ payload: Buffer.from(refCampaignBody) })).toBe(true);
    expect(check({ now: new Date(nowMs + 299_000) })).toBe(true);
    expect(check({ now: NOW })).toBe(true); // unix seconds, as some callers pass
  });

  it('returns false for tampered, wrong-secret, stale, missing and malformed, never throwing', () => {
    expect(check({ payload: refCampaignBody.replace('4990', '9990') })).toBe(false);
    expect(check({ secret: 'whsec_other' })).toBe(false);
    expect(check({ header: header(NOW, 'whsec_other') })).toBe(false);
    expect(check({ now: nowMs + 301_000 })).toBe(false);
    expect(check({ now: nowMs + 301_000, toleranceSeconds: 600 })).toBe(true);
    expect(check({ header: undefined })).toBe(false);
    expect(check({ header: null })).toBe(false);
    expect(check({ header: '' })).toBe(false);
    expect(check({ header: `t=${NOW}` })).toBe(false);
    expect(check({ header: `t=abc,v1=${hmac(SECRET, NOW, refCampaignBody)}` })).toBe(false);
    expect(check({ secret: '' })).toBe(false);
    expect(check({ payload: JSON.parse(refCampaignBody) })).toBe(false);
    expect(verifyWebhookSignature(undefined as never)).toBe(false);
  });

  it('agrees with node:crypto on any payload and secret (secrets longer than a SHA-256 block too)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 299 }), (secret, bytes, skew) => {
        const signature = createHmac('sha256', secret).update(`${NOW}.`).update(bytes).digest('hex');
        expect(verifyWebhookSignature({ secret, payload: bytes, header: `t=${NOW},v1=${signature}`, now: nowMs + skew * 1_000 })).toBe(true);
        const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
        expect(verifyWebhookSignature({ secret, payload: bytes, header: `t=${NOW},v1=${flipped}`, now: nowMs })).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('end to end: the emulator signs its refund webhooks, verifyWebhook accepts them', () => {
  /** A merchant's receiver on loopback: Node's headers object and a Buffer body, as Express gives them with express.raw(). */
  async function receiver(handle: (body: Buffer, headers: IncomingHttpHeaders) => Promise<number>) {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void handle(Buffer.concat(chunks), request.headers).then((status) => response.writeHead(status).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it.each(['v1', 'timestamp'] as const)('RefCampaign conversion.refunded and Affonso transaction.* (Affonso form %s)', async (affonsoForm) => {
    const secrets = { refcampaign: 'whsec_rc_e2e', affonso: 'whsec_aff_e2e' };
    const verified: Awaited<ReturnType<typeof verifyWebhook>>[] = [];
    const refused: string[] = [];
    const hook = await receiver(async (body, headers) => {
      const provider = headers['x-refcampaign-signature'] ? 'refcampaign' : 'affonso';
      try {
        verified.push(await verifyWebhook(provider, { payload: body, headers, secret: secrets[provider] }));
        return 200;
      } catch (error) {
        refused.push((error as Error).message);
        return 400;
      }
    });
    const running = await startEmulator({
      seed: { refcampaign: [{ id: 'order_1', sale: { value: 4_990, currency: 'EUR' } }], affonso: [{ id: 'com_1', sale: { value: 10_000, currency: 'USD' } }] },
      webhooks: { url: hook.url, secrets, affonsoForm },
    });
    try {
      await refund({ provider: running.providers.refcampaign, conversionId: 'order_1' });
      await refund({ provider: running.providers.affonso, conversionId: 'com_1', amount: { value: 2_500, currency: 'USD' } });
      await refund({ provider: running.providers.affonso, conversionId: 'com_1' });
      await running.emulator.idle();
      expect(refused).toEqual([]);
      expect(running.emulator.webhookDeliveries.map((delivery) => [delivery.provider, delivery.type, delivery.status])).toEqual([
        ['refcampaign', 'conversion.refunded', 200],
        ['affonso', 'transaction.updated', 200],
        ['affonso', 'transaction.rejected', 200],
      ]);
      // Delivered concurrently, as the vendors do: they may arrive in either order.
      const byType = (type: string) => verified.find((event) => event.type === type);
      const [refcampaign, partial, full] = [byType('conversion.refunded'), byType('transaction.updated'), byType('transaction.rejected')];
      expect(refcampaign).toMatchObject({ provider: 'refcampaign', type: 'conversion.refunded', data: { externalId: 'order_1', amount: 4_990 } });
      expect(refcampaign?.provider === 'refcampaign' && refcampaign.idempotencyKey).toMatch(/^conversion\.refunded:conversion:conv_/);
      expect(partial).toMatchObject({ provider: 'affonso', type: 'transaction.updated', id: expect.stringMatching(/^evt_/), data: { id: 'com_1', refund_amount: 25 } });
      expect(full).toMatchObject({ type: 'transaction.rejected', data: { sales_status: 'refunded', refunded_amount: 100 } });
    } finally {
      await running.close();
      await hook.close();
    }
  });

  it('a receiver with the wrong secret refuses them; signWebhook signs a payload for a receiver test', async () => {
    const headers = await signWebhook('refcampaign', refCampaignBody, SECRET, { timestamp: NOW });
    await expect(verifyWebhook('refcampaign', { payload: refCampaignBody, headers, secret: SECRET, now: nowMs })).resolves.toMatchObject({ type: 'conversion.refunded' });
    await expectCode(verifyWebhook('refcampaign', { payload: refCampaignBody, headers, secret: 'whsec_wrong', now: nowMs }), 'signature_mismatch');
    const stale = await signWebhook('affonso', affonsoBody, SECRET, { timestamp: NOW - 3_600, affonsoForm: 'timestamp' });
    expect(stale['x-affonso-timestamp']).toBe(String(NOW - 3_600));
    await expectCode(verifyWebhook('affonso', { payload: affonsoBody, headers: stale, secret: SECRET, now: nowMs }), 'timestamp_out_of_tolerance');
  });
});
