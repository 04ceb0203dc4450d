export { createAffonso, type AffonsoPlan, type AffonsoProvider, type AffonsoSettings } from './affonso-provider.js';
export type { AffonsoConversion, AffonsoRefundBody, AffonsoRefundResponse } from './affonso-schemas.js';
