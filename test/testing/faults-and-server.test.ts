import { afterEach, describe, expect, it } from 'vitest';
import {
  EMULATOR_API_KEYS,
  createEmulator,
  startEmulator,
  toResponse,
  type RunningEmulator,
} from '../../src/testing/index.js';

let running: RunningEmulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start() {
  running = await startEmulator({
    seed: {
      affixo: [{ id: 'order_1', sale: { value: 1_000, currency: 'USD' } }],
      affonso: [{ id: 'com_1', sale: { value: 1_000, currency: 'USD' } }],
    },
  });
  return running;
}

/** A raw Affixo refund over real HTTP, without the SDK. */
const affixoRefund = (emulator: RunningEmulator) =>
  fetch(`${emulator.baseURLs.affixo}/v1/track/refund`, {
    method: 'POST',
    headers: { authorization: `Bearer ${EMULATOR_API_KEYS.affixo}`, 'content-type': 'application/json' },
    body: JSON.stringify({ external_id: 'order_1' }),
  });

describe('startEmulator', () => {
  it('serves each vendor under its own path prefix on loopback', async () => {
    const emulator = await start();
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.baseURLs).toEqual({
      affixo: `${emulator.url}/affixo`,
      affonso: `${emulator.url}/affonso`,
      refcampaign: `${emulator.url}/refcampaign`,
      firstpromoter: `${emulator.url}/firstpromoter`,
    });
    const response = await affixoRefund(emulator);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true });
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it('answers 404 outside the emulated endpoints', async () => {
    const emulator = await start();
    const response = await fetch(`${emulator.url}/nowhere/v1/track/refund`, { method: 'POST' });
    expect(response.status).toBe(404);
  });

  it('closes with connections still open', async () => {
    const emulator = await start();
    emulator.inject({ delay: 5_000 });
    const pending = affixoRefund(emulator).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await emulator.close();
    running = undefined;
    expect(await pending).toBeInstanceOf(TypeError);
  });
});

describe('fault injection', () => {
  it('forces a status, body and headers without applying the refund', async () => {
    const emulator = await start();
    emulator.inject({ status: 503, body: { error: 'maintenance' }, headers: { 'retry-after': '3' } });
    const response = await affixoRefund(emulator);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toEqual({ error: 'maintenance' });
    expect(emulator.ledger.refunds()).toHaveLength(0);
  });

  it('with afterApply, applies the refund and then fails', async () => {
    const emulator = await start();
    emulator.inject({ status: 500, afterApply: true });
    expect((await affixoRefund(emulator)).status).toBe(500);
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it.each([
    [false, 0],
    [true, 1],
  ])('resets the TCP connection (afterApply: %s), leaving %d refunds applied', async (afterApply, applied) => {
    const emulator = await start();
    emulator.inject({ reset: true, afterApply });
    const error = await affixoRefund(emulator).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(emulator.ledger.refunds()).toHaveLength(applied);
  });

  it('delays the answer', async () => {
    const emulator = await start();
    emulator.inject({ delay: 300 });
    const started = performance.now();
    expect((await affixoRefund(emulator)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('hits only the vendor it names, as many times as asked, then stops', async () => {
    const emulator = await start();
    emulator.inject({ provider: 'affonso', status: 500 });
    emulator.inject({ provider: 'affixo', status: 502, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await affixoRefund(emulator)).status);
    expect(statuses).toEqual([502, 502, 200]);
  });

  it('hits only the conversion it names', async () => {
    const emulator = await start();
    emulator.emulator.seed({ affixo: [{ id: 'order_2', sale: { value: 500, currency: 'USD' } }] });
    emulator.inject({ conversionId: 'order_2', status: 500 });
    expect((await affixoRefund(emulator)).status).toBe(200);
    const other = await fetch(`${emulator.baseURLs.affixo}/v1/track/refund`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EMULATOR_API_KEYS.affixo}` },
      body: JSON.stringify({ external_id: 'order_2' }),
    });
    expect(other.status).toBe(500);
  });

  it('sends a string body as it is, such as HTML from a proxy', async () => {
    const emulator = await start();
    emulator.inject({ status: 502, body: '<html><h1>502 Bad Gateway</h1></html>', headers: { 'content-type': 'text/html' } });
    const response = await affixoRefund(emulator);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.text()).toBe('<html><h1>502 Bad Gateway</h1></html>');
  });

  it('lays headers alone over the real answer', async () => {
    const emulator = await start();
    emulator.inject({ headers: { 'content-type': 'text/html' } });
    const response = await affixoRefund(emulator);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.json()).toMatchObject({ ok: true });
    expect(emulator.ledger.refunds()).toHaveLength(1);
  });

  it('becomes a network error through msw', async () => {
    const emulator = createEmulator({ seed: { affixo: [{ id: 'order_1', sale: { value: 1_000, currency: 'USD' } }] } });
    emulator.inject({ reset: true });
    const outcome = await emulator.handle('affixo', new Request('https://go.affixo.dev/v1/track/refund', { method: 'POST', body: '{}' }));
    const response = toResponse(outcome);
    expect(response.type).toBe('error');
  });

  it('refuses a fault with times below 1', () => {
    expect(() => createEmulator().inject({ status: 500, times: 0 })).toThrow(RangeError);
  });

  it('is forgotten by reset(), with the conversions and refunds', async () => {
    const emulator = await start();
    await affixoRefund(emulator);
    emulator.inject({ status: 500 });
    emulator.emulator.reset();
    expect(emulator.ledger.refunds()).toHaveLength(0);
    expect(emulator.ledger.conversions()).toHaveLength(0);
    emulator.emulator.seed({ affixo: [{ id: 'order_1', sale: { value: 1_000, currency: 'USD' } }] });
    expect((await affixoRefund(emulator)).status).toBe(200);
  });
});

describe('faults on the wire', () => {
  it('compress: the answer travels gzip-compressed, and fetch decodes it', async () => {
    const emulator = await start();
    emulator.inject({ compress: 'gzip' });
    const response = await affixoRefund(emulator);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.json()).toMatchObject({ ok: true });
  });

  it('bytes as the body: an already-gzipped bomb sent as it is', async () => {
    const { gzipSync } = await import('node:zlib');
    const emulator = await start();
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    emulator.inject({ status: 200, body: new Uint8Array(bomb), headers: { 'content-encoding': 'gzip' } });
    const response = await affixoRefund(emulator);
    expect(Number(response.headers.get('content-length'))).toBe(bomb.byteLength);
    expect((await response.arrayBuffer()).byteLength).toBe(4 * 1024 * 1024);
  });

  it('trickle: the body arrives a few bytes at a time, on the loopback server and through msw', async () => {
    const emulator = await start();
    emulator.inject({ trickle: { bytes: 4, every: 20 } });
    const started = performance.now();
    const response = await affixoRefund(emulator);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ ok: true });
    // Each piece waits its turn: at least (pieces - 1) intervals went by.
    expect(performance.now() - started).toBeGreaterThanOrEqual((Math.ceil(text.length / 4) - 1) * 20);
    const reader = toResponse({ status: 200, body: { ok: true }, trickle: { bytes: 3, every: 5 } }).body?.getReader();
    const pieces: number[] = [];
    for (let next = await reader!.read(); !next.done; next = await reader!.read()) pieces.push(next.value.byteLength);
    expect(pieces).toEqual([3, 3, 3, 2]);
  });

  it('counts what it answered, and the 429s of its own rate limit apart from injected ones', async () => {
    running = await startEmulator({ seed: { affixo: [{ id: 'order_1', sale: { value: 1_000, currency: 'USD' } }] }, rateLimits: { affixo: { limit: 1, interval: 60_000 } } });
    running.inject({ status: 429 });
    expect((await affixoRefund(running)).status).toBe(429); // injected
    expect((await affixoRefund(running)).status).toBe(200);
    expect((await affixoRefund(running)).status).toBe(429); // the emulator's own limit
    expect(running.emulator.counts).toMatchObject({ requests: { affixo: 3 }, rateLimited: { affixo: 1 } });
    running.emulator.reset();
    expect(running.emulator.counts.requests.affixo).toBe(0);
  });
});
