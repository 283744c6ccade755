import type { GraphErrorKind, MediaRefusalKind, MetricName, ResponderKind } from './metric-catalog.ts';

/**
 * The port use cases report what happened through. It knows nothing of CloudWatch: the functions
 * give an EMF adapter (emf-telemetry.ts), tests an in-memory one.
 */
export interface Telemetry {
  /** Adds `value` to a metric; `dimension` only for the metrics the catalogue gives one. */
  count(
    name: MetricName,
    value?: number,
    dimension?: ResponderKind | GraphErrorKind | MediaRefusalKind,
  ): void;
  /** Records a duration in milliseconds. */
  duration(name: MetricName, milliseconds: number, dimension?: ResponderKind): void;
}

/**
 * Telemetry that holds what was recorded until the unit of work ends (an SQS record, a run): the
 * function entry calls `flush` with ids as metadata (the tenant id; never a contact or text).
 */
export interface FlushableTelemetry extends Telemetry {
  flush(metadata?: Record<string, string>): void;
}

/** Records nothing: for code paths (scripts, tools, tests) that need no metrics. */
export const noTelemetry: FlushableTelemetry = { count() {}, duration() {}, flush() {} };

/** Keeps every recorded value in memory: tests read `totals`, `samples` and `flushes`. */
export class InMemoryTelemetry implements FlushableTelemetry {
  readonly totals = new Map<string, number>();
  readonly samples: Array<{ name: MetricName; value: number; dimension?: string }> = [];
  /** The metadata of every flush, in order (values stay in `totals`, so tests can read them after). */
  readonly flushes: Array<Record<string, string>> = [];

  count(name: MetricName, value = 1, dimension?: string): void {
    const key = dimension ? `${name}:${dimension}` : name;
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
    this.samples.push({ name, value, ...(dimension ? { dimension } : {}) });
  }

  duration(name: MetricName, milliseconds: number, dimension?: string): void {
    this.samples.push({ name, value: milliseconds, ...(dimension ? { dimension } : {}) });
  }

  flush(metadata: Record<string, string> = {}): void {
    this.flushes.push({ ...metadata });
  }

  total(name: MetricName, dimension?: string): number {
    return this.totals.get(dimension ? `${name}:${dimension}` : name) ?? 0;
  }
}
