export { createAffixo, type AffixoProvider, type AffixoSettings } from './affixo-provider.js';
export type { AffixoRefundBody, AffixoRefundResponse } from './affixo-schemas.js';
