import { Duration } from 'aws-cdk-lib';
import { type IMetric, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  GRAPH_ERROR_KINDS,
  METRICS_NAMESPACE,
  type MetricName,
  metricCatalog,
  RESPONDERS,
} from '../../../lib/observability/metric-catalog.ts';

const period = Duration.minutes(5);

/**
 * CloudWatch metrics of the product, built from the catalogue the functions emit from: the same
 * namespace, name, `service` dimension and (where the catalogue has one) the second dimension.
 */
export function productMetric(
  name: MetricName,
  options: { dimension?: string; statistic?: string } = {},
): Metric {
  const definition = metricCatalog[name] as { service: string; dimension?: string };
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: {
      service: definition.service,
      ...(definition.dimension && options.dimension ? { [definition.dimension]: options.dimension } : {}),
    },
    statistic: options.statistic ?? 'Sum',
    period,
  });
}

const idOf = (value: string) => value.replace(/[^a-zA-Z0-9]/g, '').toLowerCase();

/** Messages answered by every responder, one series each. */
export const answeredByResponder = (): Record<string, Metric> =>
  Object.fromEntries(
    RESPONDERS.map((r) => [`answered${idOf(r)}`, productMetric('MessagesAnswered', { dimension: r })]),
  );

/** Graph send failures of every kind, one series each. */
export const graphErrorsByKind = (): Record<string, Metric> =>
  Object.fromEntries(
    GRAPH_ERROR_KINDS.map((k) => [`graph${idOf(k)}`, productMetric('GraphErrors', { dimension: k })]),
  );

const sumOf = (metrics: Record<string, Metric>, label: string): MathExpression =>
  new MathExpression({
    expression: Object.keys(metrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics: metrics,
    label,
    period,
  });

/** Share (percent) of answers that came from the FAQ responder because OpenAI failed. */
export function fallbackRate(): IMetric {
  return new MathExpression({
    expression: 'IF(answered > 0, 100 * FILL(fallback, 0) / answered, 0)',
    usingMetrics: {
      answered: sumOf(answeredByResponder(), 'answered'),
      fallback: productMetric('MessagesAnswered', { dimension: 'fallback' }),
    },
    label: 'fallback rate (%)',
    period,
  });
}

/** Graph send failures (any kind) per hundred parts sent or failed. */
export function graphErrorRate(): IMetric {
  return new MathExpression({
    expression: 'IF(failed + FILL(sent, 0) > 0, 100 * failed / (failed + FILL(sent, 0)), 0)',
    usingMetrics: { failed: sumOf(graphErrorsByKind(), 'Graph errors'), sent: productMetric('RepliesSent') },
    label: 'Graph error rate (%)',
    period,
  });
}
