import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmfTelemetry } from '../../lib/observability/emf-telemetry.ts';

/** The EMF documents written to stdout while `work` runs. */
function captureEmf(work: () => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('given the EMF telemetry adapter', () => {
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  });

  it('when counts of one metric are recorded, then one document carries their sum and the tenant as metadata', () => {
    const telemetry = new EmfTelemetry('webhook');
    telemetry.count('MessagesEnqueued', 3);
    telemetry.count('MessagesEnqueued', 2);
    telemetry.count('WebhookDeliveries');
    const docs = captureEmf(() => telemetry.flush({ tenant_id: 'c_1' }));
    expect(docs).toHaveLength(1);
    const doc = docs[0] as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
    };
    expect(doc.MessagesEnqueued).toBe(5);
    expect(doc.WebhookDeliveries).toBe(1);
    expect(doc.tenant_id).toBe('c_1');
    expect(doc.service).toBe('webhook');
    expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('WaAssistant');
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('when metrics carry different dimension values, then each value is its own document and the tenant is no dimension', () => {
    const telemetry = new EmfTelemetry('assistant');
    telemetry.count('MessagesAnswered', 1, 'faq');
    telemetry.duration('ResponderLatency', 12, 'faq');
    telemetry.count('MessagesAnswered', 1, 'openai');
    telemetry.count('GraphErrors', 1, 'rate_limited');
    telemetry.count('DuplicatesSuppressed');
    const docs = captureEmf(() => telemetry.flush({ tenant_id: 'c_2' }));
    expect(docs).toHaveLength(4);
    const faq = docs.find((d) => d.responder === 'faq') as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> };
    };
    expect(faq.MessagesAnswered).toBe(1);
    expect(faq.ResponderLatency).toBe(12);
    expect(faq._aws.CloudWatchMetrics[0]?.Dimensions[0]?.sort()).toEqual(['responder', 'service']);
    expect(docs.find((d) => d.kind === 'rate_limited')?.GraphErrors).toBe(1);
    for (const doc of docs) expect(JSON.stringify(doc._aws)).not.toContain('tenant_id');
  });

  it('when nothing was recorded, then flushing writes nothing', () => {
    expect(captureEmf(() => new EmfTelemetry('purge').flush())).toHaveLength(0);
  });
});
