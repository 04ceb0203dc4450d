export { refund, type AffixoFields, type RefundOptions, type RefundOptionsBase, type RefundFieldsByProvider, type RefundProvider } from './refund.js';
export {
  deriveIdempotencyKey,
  refundMany,
  type RefundManyItem,
  type RefundManyOptions,
  type RefundManyOutcome,
  type RefundManyProgress,
} from './refund-many.js';

export { createAffixo, type AffixoProvider, type AffixoSettings } from './providers/affixo/affixo-provider.js';
export { createAffonso, type AffonsoPlan, type AffonsoProvider, type AffonsoSettings } from './providers/affonso/affonso-provider.js';
export {
  createRefCampaign,
  type RefCampaignProvider,
  type RefCampaignSettings,
} from './providers/refcampaign/refcampaign-provider.js';
export {
  createFirstPromoter,
  type FirstPromoterProvider,
  type FirstPromoterRefundRequest,
  type FirstPromoterSettings,
} from './providers/firstpromoter/firstpromoter-provider.js';
export type { AffixoError, AffixoRefundBody, AffixoRefundResponse } from './providers/affixo/affixo-schemas.js';
export type { AffonsoConversion, AffonsoError, AffonsoRefundBody, AffonsoRefundResponse } from './providers/affonso/affonso-schemas.js';
export type { RefCampaignError, RefCampaignRefundBody, RefCampaignRefundResponse } from './providers/refcampaign/refcampaign-schemas.js';
export type { FirstPromoterError, FirstPromoterRefundBody, FirstPromoterRefundResponse } from './providers/firstpromoter/firstpromoter-schemas.js';

export {
  AbortedError,
  ApiError,
  AuthenticationError,
  BadRequestError,
  ClawbackError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RedirectError,
  ResponseValidationError,
  ServerError,
  TimeoutError,
  ValidationError,
  WebhookVerificationError,
  type ClawbackErrorDetails,
  type WebhookVerificationCode,
  type ValidationIssue,
} from './core/errors.js';

export type { KyInstanceLike, ProviderSettings } from './core/settings.js';
export type { Logger, ObservabilitySettings, RequestEvent, ResponseEvent } from './core/hooks.js';
export { LedgerUnavailableError, RefundInProgressError, UnsettledRefundError } from './core/ledger-errors.js';
export type { RateLimit, RateLimitStore, Take, TakeContext } from './core/rate-limiter.js';
export {
  DEFAULT_RETENTION_MS,
  decideClaim,
  decideRecord,
  decideResolve,
  defineLedger,
  ledgerId,
  parseLedgerId,
  refusedSettlement,
  settledResult,
  type Claim,
  type ClaimRequest,
  type LedgerEntry,
  type LedgerKey,
  type LedgerListFilter,
  type LedgerOutcome,
  type LedgerState,
  type LedgerStore,
  type RefundLedger,
} from './core/ledger.js';
export { memoryLedger, type MemoryLedgerOptions } from './core/memory-ledger.js';
export type { FetchFunction } from './core/transport-types.js';
export type { Schema } from './core/validation.js';
export type {
  CallOptions,
  CommissionChange,
  Customer,
  FirstPromoterRefundOptions,
  Money,
  ProviderName,
  ProviderOptions,
  RefundCall,
  RefundProviderV1,
  RefundResult,
  RefundStatus,
} from './spec/refund-provider-v1.js';
