import {
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  type ProviderName,
  type RefundOptions,
  type RefundProvider,
} from '../../src/index.js';
import type { ProviderSettings } from '../../src/core/settings.js';
import { json, type Reply } from './vendor-mock.js';

/** Everything a cross-vendor test needs to drive one vendor. */
export interface VendorCase {
  name: ProviderName;
  apiKey: string;
  url: string;
  create: (settings?: ProviderSettings) => RefundProvider;
  /** A valid full refund (FirstPromoter: its whole amount, since it has no "refund the rest"). */
  options: Omit<RefundOptions, 'provider'>;
  ok: Reply;
  /** Where this vendor carries the idempotency key on the wire, if it does. */
  wireKey: (body: unknown) => unknown;
}

export const vendors: VendorCase[] = [
  {
    name: 'affixo',
    apiKey: 'sa_live_affixo_secret_key_7f3a9c',
    url: 'https://go.affixo.dev/v1/track/refund',
    create: (settings) => createAffixo({ apiKey: 'sa_live_affixo_secret_key_7f3a9c', ...settings }),
    options: { conversionId: 'order_1' },
    ok: json({ ok: true, conversion_id: 'cv_1' }),
    wireKey: () => undefined,
  },
  {
    name: 'affonso',
    apiKey: 'sk_live_affonso_secret_key_7f3a9c',
    url: 'https://api.affonso.io/v1/conversions/com_1/refund',
    create: (settings) => createAffonso({ apiKey: 'sk_live_affonso_secret_key_7f3a9c', ...settings }),
    options: { conversionId: 'com_1', amount: { value: 4950, currency: 'USD' } },
    ok: json({ success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'refunded' } }),
    wireKey: (body) => (body as { external_event_id?: string }).external_event_id,
  },
  {
    name: 'refcampaign',
    apiKey: 'rc_live_refcampaign_secret_key_7f3a9c',
    url: 'https://app.refcampaign.com/api/v1/conversions/refund',
    create: (settings) => createRefCampaign({ apiKey: 'rc_live_refcampaign_secret_key_7f3a9c', ...settings }),
    options: { conversionId: 'order_1' },
    ok: json({ success: true, data: { success: true, conversionId: 'c', alreadyRefunded: false } }),
    wireKey: () => undefined,
  },
  {
    name: 'firstpromoter',
    apiKey: 'fp_firstpromoter_secret_key_7f3a9c',
    url: 'https://api.firstpromoter.com/api/v2/track/refund',
    create: (settings) =>
      createFirstPromoter({ apiKey: 'fp_firstpromoter_secret_key_7f3a9c', accountId: 'acc_1', ...settings }),
    options: { conversionId: 'sale_1', amount: { value: 4950, currency: 'USD' }, customer: { uid: 'lead_1' } },
    ok: json({ id: 1, type: 'refund', amount_cents: -4950 }),
    wireKey: (body) => (body as { event_id?: string }).event_id,
  },
];
