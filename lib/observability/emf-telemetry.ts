import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricName, metricCatalog } from './metric-catalog.ts';
import type { FlushableTelemetry } from './telemetry.ts';

interface Pending {
  name: MetricName;
  dimension: string | undefined;
  values: number[];
}

/**
 * Telemetry as CloudWatch Embedded Metric Format through Powertools Metrics. Values are buffered
 * and written by `flush()` at the end of each unit of work (a request, an SQS record), with the
 * tenant id as metadata: counts of one name and dimension are summed, so a batch costs a few log
 * lines, not one per message. Metrics with a dimension go out as their own EMF document, because an
 * EMF document's dimensions apply to every metric in it. `POWERTOOLS_METRICS_DISABLED=true` (tests,
 * the local stack) silences it.
 */
export class EmfTelemetry implements FlushableTelemetry {
  private pending = new Map<string, Pending>();
  private readonly metrics: Metrics;

  constructor(serviceName: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  }

  count(name: MetricName, value = 1, dimension?: string): void {
    const entry = this.entry(name, dimension);
    entry.values[0] = (entry.values[0] ?? 0) + value;
  }

  duration(name: MetricName, milliseconds: number, dimension?: string): void {
    this.entry(name, dimension).values.push(milliseconds);
  }

  /** Writes what was recorded since the last flush; metadata must hold ids only, never content. */
  flush(metadata: Record<string, string> = {}): void {
    const documents = new Map<string, { dimension?: [string, string]; entries: Pending[] }>();
    for (const entry of this.pending.values()) {
      const dimensionName = (metricCatalog[entry.name] as { dimension?: string }).dimension;
      const dimension: [string, string] | undefined =
        dimensionName && entry.dimension ? [dimensionName, entry.dimension] : undefined;
      const key = dimension ? dimension.join('=') : '';
      const document = documents.get(key) ?? { ...(dimension ? { dimension } : {}), entries: [] };
      document.entries.push(entry);
      documents.set(key, document);
    }
    this.pending = new Map();
    for (const { dimension, entries } of documents.values()) {
      const target = this.metrics;
      for (const [key, value] of Object.entries(metadata)) target.addMetadata(key, value);
      if (dimension) target.addDimension(dimension[0], dimension[1]);
      for (const entry of entries) {
        const unit =
          metricCatalog[entry.name].unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count;
        for (const value of entry.values) target.addMetric(entry.name, unit, value);
      }
      target.publishStoredMetrics();
    }
  }

  private entry(name: MetricName, dimension: string | undefined): Pending {
    const key = `${name}\u0000${dimension ?? ''}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { name, dimension, values: [] };
      this.pending.set(key, entry);
    }
    return entry;
  }
}
