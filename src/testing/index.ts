/**
 * `clawback/testing`: a stateful emulator of the four vendors' refund APIs, as a real HTTP server
 * on loopback (`startEmulator`), or in your process (`createEmulator`, whose `handle()` answers a
 * `Request`). Needs nothing beyond clawback; `clawback/testing/msw` mounts it as msw handlers.
 * ESM only (Node >= 22.12 also loads it from `require()`, through require(esm)).
 */
export {
  EMULATOR_API_KEYS,
  EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
  createEmulator,
  type ConversionSeeds,
  type Emulator,
  type EmulatorOptions,
  type EmulatorOutcome,
  type EmulatorProviders,
  type EmulatorRateLimit,
} from './emulator.js';
export { toResponse, VENDOR_ENDPOINTS } from './responses.js';
export { startEmulator, type RunningEmulator, type StartEmulatorOptions } from './server.js';
export { Ledger, type CommissionStatus, type ConversionSeed, type LedgerConversion, type LedgerRefund, type RefundFilter } from './ledger.js';
export type { Fault } from './faults.js';
export { signWebhook, type AffonsoSignatureForm, type EmulatorWebhooks, type SignWebhookOptions, type WebhookDelivery } from './webhooks.js';
export type { AffixoScope, EmulatorCounts, Reply } from './vendors/shared.js';
