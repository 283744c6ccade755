import type { GraphErrorKind, MetricName, ResponderKind } from './metric-catalog.ts';

/**
 * The port use cases report what happened through. It knows nothing of CloudWatch: the functions
 * give an EMF adapter (emf-telemetry.ts), tests an in-memory one.
 */
export interface Telemetry {
  /** Adds `value` to a metric; `dimension` only for the metrics the catalogue gives one. */
  count(name: MetricName, value?: number, dimension?: ResponderKind | GraphErrorKind): void;
  /** Records a duration in milliseconds. */
  duration(name: MetricName, milliseconds: number, dimension?: ResponderKind): void;
}

/** Records nothing: for code paths (scripts, tools) that need no metrics. */
export const noTelemetry: Telemetry = { count() {}, duration() {} };

/** Keeps every recorded value in memory: tests read `totals` and `samples`. */
export class InMemoryTelemetry implements Telemetry {
  readonly totals = new Map<string, number>();
  readonly samples: Array<{ name: MetricName; value: number; dimension?: string }> = [];

  count(name: MetricName, value = 1, dimension?: string): void {
    const key = dimension ? `${name}:${dimension}` : name;
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
    this.samples.push({ name, value, ...(dimension ? { dimension } : {}) });
  }

  duration(name: MetricName, milliseconds: number, dimension?: string): void {
    this.samples.push({ name, value: milliseconds, ...(dimension ? { dimension } : {}) });
  }

  total(name: MetricName, dimension?: string): number {
    return this.totals.get(dimension ? `${name}:${dimension}` : name) ?? 0;
  }
}
