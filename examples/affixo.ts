// Affixo reverses whole conversions only: refund() takes no amount for it (the compiler and the
// run-time checks both refuse one). Run: npm run example -- affixo
import { ClawbackError, createAffixo, refund } from 'clawback';
import { startLocalVendor } from './support/local-vendor.ts';

const vendor = await startLocalVendor();
const affixo = createAffixo({ apiKey: 'sa_live_example_key', baseURL: vendor.baseURL });

try {
  const result = await refund({
    provider: affixo,
    conversionId: 'order_1234', // the external_id you sent with the sale
    reason: 'chargeback', // Affixo has no field for it: reported in result.warnings
  });
  console.log(`${result.provider}: ${result.status}, key ${result.idempotencyKey}`);
  console.log('warnings:', result.warnings);
} catch (error) {
  if (ClawbackError.isInstance(error)) console.error(`${error.name}: ${error.message}`);
  throw error;
} finally {
  await vendor.close();
}
