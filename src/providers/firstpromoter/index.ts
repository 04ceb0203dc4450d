export {
  createFirstPromoter,
  type FirstPromoterProvider,
  type FirstPromoterRefundRequest,
  type FirstPromoterSettings,
} from './firstpromoter-provider.js';
export type { FirstPromoterRefundBody, FirstPromoterRefundResponse } from './firstpromoter-schemas.js';
