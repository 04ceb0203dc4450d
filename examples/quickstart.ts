import { refund } from 'clawback';
import { startEmulator } from 'clawback/testing';

const emulator = await startEmulator({
  seed: { affonso: [{ id: 'com_abc123', sale: { value: 12_000, currency: 'USD' } }] },
});
const result = await refund({
  provider: emulator.providers.affonso, // in production: createAffonso(), reading AFFONSO_API_KEY
  conversionId: 'com_abc123',
  amount: { value: 4_950, currency: 'USD' }, // minor units: USD 49.50; omit for a full refund
  idempotencyKey: 're_3PqZ8x2eZvKYlo2C', // e.g. your payment processor's refund id
});
console.log(result.status, result.duplicate, emulator.ledger.conversion('affonso', 'com_abc123')?.refunded);
await emulator.close();
