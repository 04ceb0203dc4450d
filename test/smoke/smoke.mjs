// Smoke test of the built package (dist/): the ESM build through `import`, the CommonJS build
// through `require`, every entry point by its package name, each performing a real POST against a loopback HTTP
// server. Catches what unit tests on src/ cannot: a CJS bundle that cannot load ky, a missing
// subpath, missing type declarations. Run by `npm test` after `npm run build`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { checklist } from '../support/checklist.mjs';

const require = createRequire(import.meta.url);
const dist = new URL('../../dist/', import.meta.url);
const { check, finish } = checklist('smoke');

/** A stand-in for the four vendors: documented success bodies, and a 401 for a key named "bad". */
const received = [];
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    received.push({ url: request.url, headers: request.headers, body: JSON.parse(body || 'null') });
    const reply = (status, payload) => {
      response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_smoke' });
      response.end(JSON.stringify(payload));
    };
    if (request.headers.authorization === 'Bearer bad_key_0001') return reply(401, { error: 'unauthorized' });
    if (request.url.endsWith('/v1/track/refund')) return reply(200, { ok: true, conversion_id: 'cv_1' });
    if (request.url.includes('/v1/conversions/')) {
      return reply(200, { success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'partial_refunded' } });
    }
    if (request.url.endsWith('/api/v1/conversions/refund')) {
      return reply(200, { success: true, data: { success: true, conversionId: 'c', alreadyRefunded: false } });
    }
    if (request.url.endsWith('/api/v2/track/refund')) return reply(200, { id: 1, type: 'refund', amount_cents: -4950 });
    reply(404, { message: 'no route' });
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}/vendor`;

const usd = { value: 4950, currency: 'USD' };
const cases = {
  affixo: { factory: 'createAffixo', options: { conversionId: 'order_1' }, path: '/vendor/v1/track/refund' },
  affonso: { factory: 'createAffonso', options: { conversionId: 'com_1', amount: usd }, path: '/vendor/v1/conversions/com_1/refund' },
  refcampaign: { factory: 'createRefCampaign', options: { conversionId: 'order_1', amount: usd }, path: '/vendor/api/v1/conversions/refund' },
  firstpromoter: {
    factory: 'createFirstPromoter',
    options: { conversionId: 'sale_1', amount: usd, customer: { uid: 'lead_1' } },
    path: '/vendor/api/v2/track/refund',
    settings: { accountId: 'acc_1' },
  },
};

// Loaded by package name (Node resolves a package's own name through its "exports" map), so
// the map's "import" and "require" conditions are exercised as a consumer would.
const specifier = (entry) => (entry === 'index' ? 'clawback' : `clawback/${entry}`);
const builds = {
  ESM: async (entry) => import(specifier(entry)),
  CJS: async (entry) => require(specifier(entry)),
};

for (const [format, load] of Object.entries(builds)) {
  console.log(`${format} build`);
  const root = await load('index');
  for (const [name, { factory, options, path, settings }] of Object.entries(cases)) {
    await check(`${format}: refund() through clawback → ${name}`, async () => {
      received.length = 0;
      const provider = root[factory]({ apiKey: 'smoke_key_0001', baseURL, ...settings });
      const result = await root.refund({ provider, ...options });
      assert.equal(result.provider, name);
      assert.equal(result.requestId, 'req_smoke');
      assert.equal(received.length, 1);
      assert.equal(received[0].url, path);
      assert.equal(received[0].headers.authorization, 'Bearer smoke_key_0001');
    });
    await check(`${format}: ${factory} from clawback/${name}`, async () => {
      const subpath = await load(name);
      assert.equal(typeof subpath[factory], 'function');
      const provider = subpath[factory]({ apiKey: 'smoke_key_0001', baseURL, ...settings });
      const result = await root.refund({ provider, ...options });
      assert.equal(result.provider, name);
    });
  }
  await check(`${format}: typed errors from a real 401`, async () => {
    const provider = root.createAffixo({ apiKey: 'bad_key_0001', baseURL });
    const error = await root.refund({ provider, conversionId: 'o' }).catch((e) => e);
    assert.ok(error instanceof root.AuthenticationError);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'unauthorized');
  });
  await check(`${format}: type declarations exist for every entry point`, async () => {
    for (const entry of ['index', 'schemas', 'stripe', 'webhooks', 'compat/affonso', 'compat/refcampaign', ...Object.keys(cases)]) {
      const file = new URL(`${entry}.${format === 'ESM' ? 'd.ts' : 'd.cts'}`, dist);
      assert.ok(existsSync(file), `missing ${file.pathname}`);
    }
  });
}

await check('the ESM build imports ky and zod from their packages, and carries no copy of either', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const esm = readdirSync(dist).filter((file) => file.endsWith('.js')).map((file) => readFileSync(new URL(file, dist), 'utf8'));
  const all = esm.join('\n');
  assert.match(all, /from ["']ky["']/);
  assert.match(all, /from ["']zod\/mini["']/);
  assert.doesNotMatch(all, /class Ky\b|Request failed with status code|\$ZodObject/);
});

for (const [format, load] of Object.entries(builds)) {
  await check(`${format}: clawback/compat/affonso and clawback/compat/refcampaign refund for real`, async () => {
    const { default: Affonso, AffonsoError } = await load('compat/affonso');
    const { RefCampaignServer } = await load('compat/refcampaign');
    received.length = 0;
    const conversion = await new Affonso('smoke_key_0001', { baseUrl: `${baseURL}/v1` }).conversions.refund('com_1', { amount: 49.5, currency: 'USD' });
    assert.equal(conversion.id, 'com_1');
    assert.equal(received[0].url, '/vendor/v1/conversions/com_1/refund');
    const result = await new RefCampaignServer('rc_test_smoke_0001', { apiUrl: baseURL }).refundConversion({ orderId: 'order_1' });
    assert.equal(result.success, true);
    const error = await new Affonso('bad_key_0001', { baseUrl: `${baseURL}/v1` }).conversions.refund('com_1').catch((e) => e);
    assert.ok(error instanceof AffonsoError);
    assert.equal(error.status, 401);
  });
  await check(`${format}: clawback/stripe turns a Stripe refund event into a refund sent for real`, async () => {
    const { refundsFromStripeEvent } = await load('stripe');
    const root = await load('index');
    const provider = root.createAffonso({ apiKey: 'smoke_key_0001', baseURL });
    const refundObject = { id: 're_1', object: 'refund', amount: 1234, currency: 'kwd', status: 'succeeded', charge: 'ch_1', payment_intent: 'pi_1' };
    const event = { id: 'evt_1', object: 'event', type: 'refund.created', data: { object: refundObject } };
    const { items, skipped } = refundsFromStripeEvent(event, { provider, conversionId: () => 'com_1' });
    assert.deepEqual(skipped, []);
    received.length = 0;
    const [outcome] = await root.refundMany(items);
    assert.equal(outcome.ok, true);
    assert.equal(received[0].url, '/vendor/v1/conversions/com_1/refund');
    assert.equal(received[0].body.amount, 1.234);
    assert.match(received[0].body.external_event_id, /^cbm2_/);
  });
  await check(`${format}: clawback/webhooks verifies a signed webhook (Web Crypto); the drop-in's verifier is synchronous`, async () => {
    const { verifyWebhook, WebhookVerificationError } = await load('webhooks');
    const { verifyWebhookSignature } = await load('compat/refcampaign');
    const { createHmac } = await import('node:crypto');
    const payload = JSON.stringify({ event: 'conversion.refunded', data: { conversionId: 'conv_1' }, idempotencyKey: 'conversion.refunded:conversion:conv_1' });
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${createHmac('sha256', 'whsec_smoke').update(`${t}.${payload}`).digest('hex')}`;
    const event = await verifyWebhook('refcampaign', { payload: Buffer.from(payload), headers: { 'x-refcampaign-signature': header }, secret: 'whsec_smoke' });
    assert.equal(event.idempotencyKey, 'conversion.refunded:conversion:conv_1');
    const refused = await verifyWebhook('refcampaign', { payload, headers: { 'x-refcampaign-signature': header }, secret: 'whsec_other' }).catch((e) => e);
    assert.ok(refused instanceof WebhookVerificationError);
    assert.equal(refused.code, 'signature_mismatch');
    assert.equal(verifyWebhookSignature({ secret: 'whsec_smoke', payload, header }), true);
    assert.equal(verifyWebhookSignature({ secret: 'whsec_other', payload, header }), false);
  });
  await check(`${format}: clawback/schemas validates with zod (Standard Schema)`, async () => {
    const schemas = await load('schemas');
    assert.equal(schemas.affonsoRefundBodySchema['~standard'].vendor, 'zod');
    assert.equal(schemas.moneySchema.safeParse({ value: 4950, currency: 'USD' }).success, true);
    assert.match(schemas.moneySchema.safeParse({ value: 49.5, currency: 'USD' }).error.issues[0].message, /whole number of minor units/);
  });
}

await check('an error from the CJS copy is recognised by the ESM copy (isInstance), not by instanceof', async () => {
  const esm = await builds.ESM('index');
  const cjs = await builds.CJS('index');
  const error = await cjs.refund({ provider: cjs.createAffixo({ apiKey: 'bad_key_0001', baseURL }), conversionId: 'o' }).catch((e) => e);
  assert.equal(error instanceof esm.AuthenticationError, false);
  assert.equal(esm.AuthenticationError.isInstance(error), true);
  assert.equal(esm.ApiError.isInstance(error), true);
  assert.equal(esm.RateLimitError.isInstance(error), false);
});

console.log('clawback/testing (ESM only)');
await check('startEmulator from the built clawback/testing serves all four vendors, and its ledger counts each refund once', async () => {
  const { refund } = await import('clawback');
  const { startEmulator } = await import('clawback/testing');
  const emulator = await startEmulator({
    seed: {
      affixo: [{ id: 'order_1', sale: usd }],
      affonso: [{ id: 'com_1', sale: usd }],
      refcampaign: [{ id: 'order_1', sale: usd }],
      firstpromoter: [{ id: 'sale_1', sale: usd, lead: { uid: 'lead_1' } }],
    },
  });
  try {
    for (const [name, { options }] of Object.entries(cases)) {
      // RefCampaign deduplicates full refunds only (a key on a partial one is refused).
      const twice = name === 'refcampaign' ? { conversionId: options.conversionId } : options;
      await refund({ provider: emulator.providers[name], ...twice, idempotencyKey: `smoke-${name}` });
      await refund({ provider: emulator.providers[name], ...twice, idempotencyKey: `smoke-${name}` });
      assert.equal(emulator.ledger.refunds({ provider: name }).length, 1, name);
    }
  } finally {
    await emulator.close();
  }
});
await check('require("clawback/testing") loads the ESM-only entry through require(esm) (Node ≥ 22.12)', async () => {
  const testing = require('clawback/testing');
  assert.equal(typeof testing.startEmulator, 'function');
  assert.equal(typeof require('clawback/testing/msw').emulatorHandlers, 'function');
});

server.close();
finish();
