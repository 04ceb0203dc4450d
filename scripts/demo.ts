// `npm run demo`: clawback's main job end to end, with no account anywhere. It starts the
// vendor emulator on loopback and runs refunds through all four providers with refund(),
// printing what was sent, what came back, and the ledger afterwards. Exits 1 if anything
// behaves differently from what it says.
import {
  ClawbackError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
  type FetchFunction,
  type RefundResult,
} from 'clawback';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, startEmulator, type LedgerConversion } from 'clawback/testing';

interface Exchange {
  method: string;
  path: string;
  sent: string;
  status?: number;
  received?: string;
}

const emulator = await startEmulator({
  seed: {
    affixo: [{ id: 'order_1001', sale: { value: 8_000, currency: 'USD' }, commission: 2_400 }],
    affonso: [{ id: 'com_2001', sale: { value: 12_000, currency: 'USD' }, commission: 3_600 }],
    refcampaign: [{ id: 'order_3001', sale: { value: 4_500, currency: 'EUR' }, commission: 900, commissionStatus: 'paid' }],
    firstpromoter: [
      { id: 'sale_4001', sale: { value: 990_000, currency: 'JPY' }, commission: 198_000, lead: { email: 'kenji@example.jp' } },
    ],
  },
});

// Every provider gets a fetch that records the exchange, so the demo can show the wire.
const exchanges: Exchange[] = [];
const recordingFetch: FetchFunction = async (input, init) => {
  const request = new Request(input, init);
  const exchange: Exchange = {
    method: request.method,
    path: new URL(request.url).pathname,
    sent: await request.clone().text(),
  };
  exchanges.push(exchange);
  const response = await fetch(request);
  exchange.status = response.status;
  exchange.received = await response.clone().text();
  return response;
};

const { baseURLs } = emulator;
const affixo = createAffixo({ apiKey: EMULATOR_API_KEYS.affixo, baseURL: baseURLs.affixo, fetch: recordingFetch });
const affonso = createAffonso({ apiKey: EMULATOR_API_KEYS.affonso, baseURL: baseURLs.affonso, fetch: recordingFetch });
const refcampaign = createRefCampaign({ apiKey: EMULATOR_API_KEYS.refcampaign, baseURL: baseURLs.refcampaign, fetch: recordingFetch });
const revokedRefcampaign = createRefCampaign({ apiKey: 'rc_live_revoked_key_0001', baseURL: baseURLs.refcampaign, fetch: recordingFetch });
const firstpromoter = createFirstPromoter({
  apiKey: EMULATOR_API_KEYS.firstpromoter,
  accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
  baseURL: baseURLs.firstpromoter,
  fetch: recordingFetch,
});

const problems: string[] = [];
const expect = (condition: boolean, what: string) => {
  if (!condition) problems.push(what);
};
const shorten = (text: string | undefined, max = 150) =>
  text === undefined || text === '' ? '(empty)' : text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** Runs one scenario and prints the exchanges it caused and how it ended. */
async function scenario(
  title: string,
  run: () => Promise<RefundResult>,
  check: (outcome: { result?: RefundResult; error?: ClawbackError; requests: number }) => void,
): Promise<void> {
  console.log(`\n${title}`);
  const before = exchanges.length;
  let result: RefundResult | undefined;
  let error: ClawbackError | undefined;
  try {
    result = await run();
  } catch (thrown) {
    if (!ClawbackError.isInstance(thrown)) throw thrown;
    error = thrown;
  }
  const mine = exchanges.slice(before);
  mine.forEach((exchange, index) => {
    const attempt = mine.length > 1 ? ` (attempt ${index + 1})` : '';
    console.log(`  → ${exchange.method} ${exchange.path}${attempt}  ${shorten(exchange.sent)}`);
    console.log(`  ← ${exchange.status ?? 'no answer'}  ${shorten(exchange.received)}`);
  });
  if (mine.length === 0) console.log('  (nothing was sent)');
  if (result) {
    const extras = [
      result.duplicate ? 'duplicate: the vendor had already recorded it' : '',
      result.warnings.length ? `warnings: ${result.warnings.join('; ')}` : '',
    ].filter(Boolean);
    console.log(`  = ${result.status}, idempotencyKey ${result.idempotencyKey}${extras.map((extra) => `\n    ${extra}`).join('')}`);
  } else if (error) {
    console.log(`  ✗ ${error.name}${error.status ? ` (${error.status})` : ''}, retryable: ${error.retryable}\n    ${error.message}`);
  }
  check({ result, error, requests: mine.length });
}

console.log(`clawback demo: four affiliate platforms, emulated at ${emulator.url}`);

await scenario(
  '1. Full refund on Affixo: order_1001 was refunded, so its conversion is reversed',
  () => refund({ provider: affixo, conversionId: 'order_1001', reason: 'requested_by_customer' }),
  ({ result }) => expect(result?.status === 'refunded', 'Affixo full refund should report refunded'),
);

await scenario(
  '2. Partial refund on Affonso: USD 25.00 of a USD 120.00 sale',
  () =>
    refund({
      provider: affonso,
      conversionId: 'com_2001',
      amount: { value: 2_500, currency: 'USD' },
      reason: 'partial_return',
      idempotencyKey: 're_2001_partial',
    }),
  ({ result }) => expect(result?.status === 'partially_refunded', 'Affonso partial refund should report partially_refunded'),
);

emulator.inject({ provider: 'firstpromoter', status: 502, afterApply: true, headers: { 'retry-after': '0' } });
await scenario(
  "3. A retried refund that stays single, on FirstPromoter: JPY 330,000, and the vendor's first answer is lost\n   (the emulator records the refund, then answers 502 as a failing proxy would)",
  () =>
    refund({
      provider: firstpromoter,
      conversionId: 'sale_4001',
      amount: { value: 330_000, currency: 'JPY' },
      customer: { email: 'kenji@example.jp' },
      idempotencyKey: 're_4001',
    }),
  ({ result, requests }) => {
    expect(requests === 2, 'FirstPromoter refund should take two attempts');
    expect(result?.duplicate === true, 'the retry should be recognised as a duplicate');
    expect(emulator.ledger.refunds({ provider: 'firstpromoter' }).length === 1, 'FirstPromoter should hold exactly one refund');
  },
);

await scenario(
  '4. An invalid request, caught before the network: a partial refund on Affixo, which only reverses whole conversions',
  () =>
    // @ts-expect-error -- the compiler refuses this too; the demo shows the run-time check
    refund({ provider: affixo, conversionId: 'order_1001', amount: { value: 1_000, currency: 'USD' } }),
  ({ error, requests }) => {
    expect(error?.name === 'ValidationError', 'an amount on Affixo should be a ValidationError');
    expect(requests === 0, 'nothing should be sent for an invalid request');
  },
);

await scenario(
  '5. An authentication error on RefCampaign: a revoked key',
  () => refund({ provider: revokedRefcampaign, conversionId: 'order_3001' }),
  ({ error }) => expect(error?.name === 'AuthenticationError' && error.retryable === false, 'a revoked key should be a final AuthenticationError'),
);

await scenario(
  '6. Full refund on RefCampaign with the right key: the paid commission gets a prorated clawback',
  () => refund({ provider: refcampaign, conversionId: 'order_3001' }),
  ({ result }) => expect(result?.status === 'refunded', 'RefCampaign full refund should report refunded'),
);

// Display only: minor units shown in major units with the currency's own decimals.
const money = (minor: number, currency: string) => {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
};

console.log('\nLedger afterwards');
const rows = emulator.ledger.conversions().map((conversion: LedgerConversion) => ({
  vendor: conversion.provider,
  conversion: conversion.id,
  sale: money(conversion.sale.value, conversion.sale.currency),
  refunded: money(conversion.refunded, conversion.sale.currency),
  commission: `${money(conversion.originalCommission, conversion.sale.currency)} → ${money(conversion.commission, conversion.sale.currency)}`,
  'refunds applied': emulator.ledger.refunds({ provider: conversion.provider, conversionId: conversion.id }).length,
}));
const columns = Object.keys(rows[0] ?? {}) as Array<keyof (typeof rows)[number]>;
const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
const line = (cells: string[]) => `  ${cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ')}`.trimEnd();
console.log(line(columns));
console.log(line(widths.map((width) => '─'.repeat(width))));
for (const row of rows) console.log(line(columns.map((column) => String(row[column]))));

expect(
  JSON.stringify(rows.map((row) => row['refunds applied'])) === JSON.stringify([1, 1, 1, 1]),
  'every conversion should have exactly one refund',
);
await emulator.close();

if (problems.length > 0) {
  console.error(`\nThe demo did not behave as described:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`\n${exchanges.length} requests, ${emulator.ledger.refunds().length} refunds applied, none twice.`);
