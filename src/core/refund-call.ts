import { ValidationError, type ValidationIssue } from './errors.js';
import type { ProviderName, RefundCall } from '../spec/refund-provider-v1.js';

type OptionalField = 'reason' | 'refundedAt' | 'customer';

/**
 * Warnings for unified options this vendor has no field for. They are not sent, and the
 * result says so, because none of them changes what money moves.
 */
export function unsupportedOptionWarnings(
  call: RefundCall,
  why: Partial<Record<OptionalField, string>>,
): string[] {
  const warnings: string[] = [];
  for (const field in why) {
    if (call[field as OptionalField] !== undefined) warnings.push(`${field} was not sent: ${why[field as OptionalField]}`);
  }
  return warnings;
}

/** Throws when a provider's adapter found requests the vendor cannot carry out as asked. */
export function assertRefundable(issues: ValidationIssue[], vendor: string, provider: ProviderName): void {
  if (issues.length > 0) {
    throw new ValidationError(issues, { context: `refund() cannot be sent to ${vendor} as asked`, provider });
  }
}
