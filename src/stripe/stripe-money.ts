import { currencyExponent } from '../core/money.js';
import type { Money } from '../spec/refund-provider-v1.js';

/**
 * Stripe's amounts are integers in the currency's "smallest unit", but Stripe's smallest unit is
 * not always ISO 4217's minor unit (which is what clawback's `Money.value` counts). Source:
 * https://docs.stripe.com/currencies#zero-decimal, #three-decimal and #special-cases.
 *
 * - Zero-decimal: the amount is whole units (¥500 is 500). MGA is zero-decimal at Stripe but
 *   has two decimals in ISO 4217, so 500 MGA is 50000 in clawback.
 * - Three-decimal (BHD, JOD, KWD, OMR, TND): thousandths, as in ISO 4217.
 * - ISK and UGX: Stripe keeps them two-decimal "for backwards compatibility" (500 = 5 ISK) and
 *   accepts only multiples of 100 since the card networks dropped fractional amounts
 *   (https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds);
 *   ISO 4217 gives both 0 decimals, so the amount is divided by 100, and an amount that does
 *   not divide (an old fractional-króna charge) cannot be converted exactly.
 * - HUF and TWD: zero-decimal for Stripe *payouts* only; charges and refunds are two-decimal,
 *   as ISO 4217 says.
 * - Every other currency Stripe supports is two-decimal. A currency whose ISO exponent is not 2
 *   and that Stripe does not list (IQD, LYD, CLF, …) has no documented Stripe unit: refused.
 */
const STRIPE_ZERO_DECIMAL = new Set('BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF'.split(' '));
const STRIPE_THREE_DECIMAL = new Set('BHD JOD KWD OMR TND'.split(' '));
const STRIPE_TWO_DECIMAL_SPECIAL = new Set('ISK UGX HUF TWD'.split(' '));

function stripeExponent(currency: string): number | undefined {
  if (STRIPE_ZERO_DECIMAL.has(currency)) return 0;
  if (STRIPE_THREE_DECIMAL.has(currency)) return 3;
  if (STRIPE_TWO_DECIMAL_SPECIAL.has(currency)) return 2;
  return currencyExponent(currency) === 2 ? 2 : undefined;
}

/**
 * A Stripe amount as clawback `Money` (ISO 4217 minor units, upper-case currency), or why it
 * cannot be converted exactly. Never rounds.
 */
export function fromStripeAmount(amount: number, stripeCurrency: string): Money | { problem: string } {
  const currency = stripeCurrency.toUpperCase();
  const iso = currencyExponent(currency);
  const stripe = stripeExponent(currency);
  if (iso === undefined) return { problem: `${currency} is not an ISO 4217 currency clawback knows` };
  if (stripe === undefined) {
    return { problem: `Stripe does not document the unit of its ${currency} amounts (ISO 4217 gives ${currency} ${iso} decimals), so clawback will not guess` };
  }
  const value = iso >= stripe ? amount * 10 ** (iso - stripe) : amount / 10 ** (stripe - iso);
  if (!Number.isSafeInteger(value)) {
    return {
      problem: `Stripe's ${amount} ${currency} (${stripe}-decimal at Stripe) is not a whole number of ${currency} minor units (ISO 4217: ${iso} decimals)`,
    };
  }
  return { value, currency };
}
