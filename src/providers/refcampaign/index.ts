export { createRefCampaign, type RefCampaignProvider, type RefCampaignSettings } from './refcampaign-provider.js';
export type { RefCampaignRefundBody, RefCampaignRefundResponse } from './refcampaign-schemas.js';
