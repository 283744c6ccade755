import type { StatusEvent } from './inbound-event.ts';
import type { ReportedOutcome } from './outcomes.ts';

/**
 * The billing a status reports, to count (once per message, by the statistics): Meta's `billable`
 * when it says, else whatever is not a free type (`free_customer_service`, `free_entry_point`).
 */
export function billedMessage(
  event: StatusEvent,
): Extract<ReportedOutcome, { type: 'message_billed' }> | undefined {
  const { pricing } = event.status;
  if (!pricing) return undefined;
  const billable = pricing.billable ?? !pricing.type?.startsWith('free');
  if (!billable) return undefined;
  return {
    type: 'message_billed',
    tenantId: event.tenant_id,
    messageId: event.status.message_id,
    at: new Date(event.status.timestamp * 1000),
    category: pricing.category,
  };
}
