// The benchmark's vendor: a loopback HTTP server in its own process, so its work does not share
// the client's event loop. It answers each vendor's refund path with that vendor's documented
// success body after `--delay` milliseconds (20 by default: a vendor 20 ms away), and echoes a
// digest of what it received (method, path, body and the headers that matter) so the benchmark
// can check that every variant sends the same request.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const delayArg = process.argv.indexOf('--delay');
const delayMs = delayArg > 0 ? Number(process.argv[delayArg + 1]) : 20;

const conversion = {
  id: 'com_abc123', referral_id: 'ref_456def', affiliate_id: 'aff_789ghi', program_id: 'prog_123xyz',
  sale_amount: 49.5, sale_amount_currency: 'USD', commission_amount: 14.85, commission_currency: 'USD',
  status: 'ready_for_payment', sales_status: 'partial_refunded', hold_period_days: null, payment_intent_id: null,
  invoice_id: null, earning_id: 'earn_123abc', earning_type: 'direct_commission', external_event_id: 'inv_2026_000145',
  calculation_mode: 'auto', matched_incentive_id: null, created_at: '2026-06-22T12:00:00.000Z', updated_at: '2026-06-22T16:10:00.000Z',
};
const bodies = [
  [/\/v1\/track\/refund$/, { ok: true, conversion_id: 'cv_1' }],
  [/\/v1\/conversions\/[^/]+\/refund$/, { success: true, data: conversion }],
  [/\/api\/v1\/conversions\/refund$/, { success: true, data: { success: true, conversionId: 'conv_1', alreadyRefunded: false }, meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_1' } }],
  [/\/api\/v2\/track\/refund$/, { id: 33847726, type: 'refund', amount_cents: -4950, reward: { id: 1, status: 'approved', amount: -990, unit: 'cash' } }],
].map(([path, body]) => [path, JSON.stringify(body)]);

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const match = bodies.find(([path]) => path.test(request.url));
    const headers = ['authorization', 'account-id', 'content-type', 'accept'].map((name) => `${name}=${request.headers[name] ?? ''}`);
    const digest = createHash('sha1').update([request.method, request.url, ...headers, body].join('\n')).digest('hex');
    const text = match ? match[1] : '{"message":"no such path"}';
    setTimeout(() => {
      response.writeHead(match ? 200 : 404, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'x-request-digest': digest,
      });
      response.end(text);
    }, delayMs);
  });
});
// Never close an idle connection from this side: closing one just as the client reuses it is a
// reset the raw-fetch floor (rightly) does not retry. The client's pool closes idle ones.
server.keepAliveTimeout = 0;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
