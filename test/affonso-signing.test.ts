// Affonso request signing (#13): @affonso/sdk 1.x signs server-side calls, refunds included, and
// Affonso's own CLI says refunds require the signing secret. Checked on a loopback server that
// computes the signature itself, with node:crypto, from the bytes it received.
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, ValidationError, createAffonso, refund } from '../src/index.js';
import { EMULATOR_API_KEYS, startEmulator, type RunningEmulator } from '../src/testing/index.js';
import { startLoopbackServer, type LoopbackServer } from './support/hostile-server.js';

const KEY = 'sk_live_signing_test_0001';
const SECRET = 'whsec_affonso_signing_secret_0001';
const ok = JSON.stringify({ success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'refunded' } });

const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closing.splice(0).map((server) => server.close()));
});
async function affonsoServer(statuses: number[] = [200]): Promise<LoopbackServer> {
  const server = await startLoopbackServer((_, response) => {
    const status = statuses[Math.min(server.received.length, statuses.length) - 1] ?? 200;
    response.writeHead(status, { 'content-type': 'application/json', 'retry-after': status === 503 ? '1' : '0' }).end(status === 200 ? ok : '{"success":false,"error":{"code":"X"}}');
  });
  closing.push(server);
  return server;
}
const expectedSignature = (timestamp: string, body: string) => createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');

describe('createAffonso({ signingSecret })', () => {
  it('sends X-Affonso-Timestamp (unix seconds) and X-Affonso-Signature = hex HMAC-SHA256("{timestamp}.{body}") over the bytes sent', async () => {
    const server = await affonsoServer();
    const before = Math.floor(Date.now() / 1000);
    await refund({ provider: createAffonso({ apiKey: KEY, signingSecret: SECRET, baseURL: server.url, rateLimit: false }), conversionId: 'com_1', amount: { value: 4950, currency: 'USD' }, idempotencyKey: 'k1' });
    const [request] = server.received;
    const timestamp = String(request?.headers['x-affonso-timestamp']);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(request?.body).toBe('{"amount":49.5,"currency":"USD","external_event_id":"k1"}');
    expect(request?.headers['x-affonso-signature']).toBe(expectedSignature(timestamp, request?.body ?? ''));
  });

  it('signs every attempt afresh: a retry a second later carries a new timestamp and its own valid signature', async () => {
    const server = await affonsoServer([503, 200]);
    await refund({ provider: createAffonso({ apiKey: KEY, signingSecret: SECRET, baseURL: server.url, rateLimit: false }), conversionId: 'com_1', idempotencyKey: 'k2' });
    expect(server.received).toHaveLength(2);
    const [first, second] = server.received.map((request) => ({ timestamp: String(request.headers['x-affonso-timestamp']), signature: request.headers['x-affonso-signature'], body: request.body }));
    expect(Number(second?.timestamp)).toBeGreaterThan(Number(first?.timestamp));
    for (const attempt of [first, second]) expect(attempt?.signature).toBe(expectedSignature(attempt?.timestamp ?? '', attempt?.body ?? ''));
  });

  it("signs native calls too, over the caller's body as sent", async () => {
    const server = await affonsoServer();
    await createAffonso({ apiKey: KEY, signingSecret: SECRET, baseURL: server.url, rateLimit: false }).conversions.refund('com_1', { reason: 'chargeback', amount: 10 });
    const [request] = server.received;
    expect(request?.body).toBe('{"reason":"chargeback","amount":10}');
    expect(request?.headers['x-affonso-signature']).toBe(expectedSignature(String(request?.headers['x-affonso-timestamp']), request?.body ?? ''));
  });

  it('reads AFFONSO_SIGNING_SECRET when the setting is absent, and signs nothing when neither is set', async () => {
    const server = await affonsoServer();
    vi.stubEnv('AFFONSO_SIGNING_SECRET', SECRET);
    await refund({ provider: createAffonso({ apiKey: KEY, baseURL: server.url, rateLimit: false }), conversionId: 'com_1' });
    vi.stubEnv('AFFONSO_SIGNING_SECRET', '');
    await refund({ provider: createAffonso({ apiKey: KEY, baseURL: server.url, rateLimit: false }), conversionId: 'com_1' });
    expect(server.received.map((request) => typeof request.headers['x-affonso-signature'])).toEqual(['string', 'undefined']);
  });

  it('keeps the secret out of errors, hook events and logs, even when the vendor echoes it', async () => {
    const server = await startLoopbackServer((_, response) => response.writeHead(401, { 'content-type': 'application/json' }).end(`{"success":false,"error":{"code":"INVALID_SIGNATURE","message":"secret ${SECRET} rejected"}}`));
    closing.push(server);
    const seen: unknown[] = [];
    const record = (event: unknown) => void seen.push(event);
    const provider = createAffonso({ apiKey: KEY, signingSecret: SECRET, baseURL: server.url, rateLimit: false, onRequest: record, onResponse: record, logger: { debug: (...args) => seen.push(args) } });
    const error = await refund({ provider, conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    const shown = [inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify(error), inspect(seen, { depth: Infinity }), inspect(provider, { depth: Infinity, showHidden: true })].join('\n');
    expect(shown).not.toContain(SECRET);
    expect(shown).toContain("'x-affonso-signature': '[redacted]'");
  });

  it('refuses a secret that cannot be sent (a trailing newline from a secrets file), without echoing it', async () => {
    vi.stubEnv('AFFONSO_SIGNING_SECRET', `${SECRET}\n`);
    const error = await refund({ provider: createAffonso({ apiKey: KEY }), conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('signingSecret');
    expect((error as Error).message).not.toContain(SECRET);
  });
});

describe('the emulator, configured with a signing secret', () => {
  let emulator: RunningEmulator;
  afterEach(() => emulator?.close());

  it('accepts a signed refund, and answers 401 to a missing, stale or wrong signature', async () => {
    emulator = await startEmulator({ affonsoSigningSecret: SECRET, seed: { affonso: [{ id: 'com_1', sale: { value: 10_000, currency: 'USD' } }] } });
    const settings = { apiKey: EMULATOR_API_KEYS.affonso, baseURL: emulator.baseURLs.affonso, rateLimit: false as const, maxRetries: 0 };
    const unsigned = await refund({ provider: createAffonso(settings), conversionId: 'com_1', amount: { value: 100, currency: 'USD' }, idempotencyKey: 'u' }).catch((e: unknown) => e);
    expect(unsigned).toMatchObject({ name: 'AuthenticationError', status: 401, code: 'MISSING_SIGNATURE' });
    const wrong = await refund({ provider: createAffonso({ ...settings, signingSecret: 'whsec_not_the_secret' }), conversionId: 'com_1', amount: { value: 100, currency: 'USD' }, idempotencyKey: 'w' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ name: 'AuthenticationError', status: 401, code: 'INVALID_SIGNATURE' });
    // Signed correctly, ten minutes ago: a replayed request.
    const body = '{"amount":1,"external_event_id":"stale"}';
    const timestamp = String(Math.floor(Date.now() / 1000) - 600);
    const stale = await fetch(`${emulator.baseURLs.affonso}/v1/conversions/com_1/refund`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EMULATOR_API_KEYS.affonso}`, 'content-type': 'application/json', 'x-affonso-timestamp': timestamp, 'x-affonso-signature': expectedSignature(timestamp, body) },
      body,
    });
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });
    expect(emulator.ledger.refunds()).toHaveLength(0);
    const result = await refund({ provider: createAffonso({ ...settings, signingSecret: SECRET }), conversionId: 'com_1', amount: { value: 100, currency: 'USD' }, idempotencyKey: 'ok' });
    expect(result.status).toBe('partially_refunded');
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it("signs the providers it hands out", async () => {
    emulator = await startEmulator({ affonsoSigningSecret: SECRET, seed: { affonso: [{ id: 'com_1', sale: { value: 10_000, currency: 'USD' } }] } });
    await refund({ provider: emulator.providers.affonso, conversionId: 'com_1' });
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });
});
