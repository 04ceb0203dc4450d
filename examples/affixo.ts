// Affixo reverses whole conversions only: refund() takes no amount for it (the compiler and the
// run-time checks both refuse one). Run: npm run example -- affixo
import { ClawbackError, createAffixo, refund } from 'clawback';
import { EMULATOR_API_KEYS, startEmulator } from 'clawback/testing';

// In production: createAffixo() with AFFIXO_API_KEY set, and no baseURL.
const emulator = await startEmulator({ seed: { affixo: [{ id: 'order_1234', sale: { value: 8_000, currency: 'USD' } }] } });
const affixo = createAffixo({ apiKey: EMULATOR_API_KEYS.affixo, baseURL: emulator.baseURLs.affixo });

try {
  const result = await refund({
    provider: affixo,
    conversionId: 'order_1234', // the external_id you sent with the sale
    reason: 'chargeback', // Affixo has no field for it: reported in result.warnings
  });
  console.log(`${result.provider}: ${result.status}, key ${result.idempotencyKey}`);
  console.log('warnings:', result.warnings);
  console.log('ledger:', emulator.ledger.conversion('affixo', 'order_1234'));
} catch (error) {
  if (ClawbackError.isInstance(error)) console.error(`${error.name}: ${error.message}`);
  throw error;
} finally {
  await emulator.close();
}
