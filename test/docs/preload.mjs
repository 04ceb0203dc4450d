// Loaded (`node --import`) before each runnable block of the docs (test/docs/docs.e2e.ts): the
// emulator answers the vendors' real URLs through msw, with the conversions the docs' examples
// name, and the environment holds the emulator's keys, as a merchant's would hold real ones.
// Blocks that start their own emulator on loopback are not intercepted (msw lets other
// requests through).
import { setupServer } from 'msw/node';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, createEmulator } from 'clawback/testing';
import { emulatorHandlers } from 'clawback/testing/msw';

const emulator = createEmulator();
emulator.seed({
  affixo: [{ id: 'order_1234', sale: { value: 9_900, currency: 'USD' } }],
  affonso: [
    { id: 'com_abc123', sale: { value: 12_000, currency: 'USD' } },
    { id: 'com_def456', sale: { value: 8_000, currency: 'USD' } },
  ],
  refcampaign: [{ id: 'order_1234', sale: { value: 9_900, currency: 'EUR' } }],
  firstpromoter: [{ id: 'sale_1', sale: { value: 12_000, currency: 'USD' }, lead: { email: 'buyer@example.com' } }],
});
setupServer(...emulatorHandlers(emulator)).listen({ onUnhandledFrame: 'bypass' });

process.env.AFFIXO_API_KEY = EMULATOR_API_KEYS.affixo;
process.env.AFFONSO_API_KEY = EMULATOR_API_KEYS.affonso;
process.env.REFCAMPAIGN_API_KEY = EMULATOR_API_KEYS.refcampaign;
process.env.FIRSTPROMOTER_API_KEY = EMULATOR_API_KEYS.firstpromoter;
process.env.FIRSTPROMOTER_ACCOUNT_ID = EMULATOR_FIRSTPROMOTER_ACCOUNT_ID;
