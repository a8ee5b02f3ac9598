import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type pg from 'pg';

/**
 * The metrics of one app, on its own Registry (tests build many apps). Others record into it:
 * `metrics.projectionLag.set({projector, unit: 'events'}, n)`, `metrics.embedLatency.observe({provider, model}, s)`.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  inFlight: Gauge;
  /** Events or seconds a projector is behind the head of the log. */
  projectionLag: Gauge<'projector' | 'unit'>;
  /** Seconds per embed call (one batch). */
  embedLatency: Histogram<'provider' | 'model'>;
  /** Reports pool sizes at each scrape. */
  watchPool(name: string, pool: pg.Pool): void;
  /** Reports the event store's group commit counts at each scrape. */
  watchAppendBatches(stats: AppendBatchCounts): void;
}

/** The event store's group commit counts (its `appendBatches`). */
export interface AppendBatchCounts {
  readonly batches: number;
  readonly batchedAppends: number;
  readonly fallbacks: number;
  readonly stalls: number;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'sekha_' });
  const pools = new Map<string, pg.Pool>();
  let appendBatches: AppendBatchCounts | undefined;
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    httpDuration: new Histogram({
      name: 'sekha_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    httpRequests: new Counter({ name: 'sekha_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers }),
    inFlight: new Gauge({ name: 'sekha_http_requests_in_flight', help: 'HTTP requests being served', registers }),
    projectionLag: new Gauge({ name: 'sekha_projection_lag', help: 'How far a projector is behind the event log head', labelNames: ['projector', 'unit'], registers }),
    embedLatency: new Histogram({
      name: 'sekha_embed_duration_seconds',
      help: 'Embedder latency per batch',
      labelNames: ['provider', 'model'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    watchPool: (name, pool) => void pools.set(name, pool),
    watchAppendBatches: (stats) => void (appendBatches = stats),
  };
  // Counts kept by the event store, read at each scrape.
  const appendCounters: Array<[string, string, keyof AppendBatchCounts]> = [
    ['sekha_append_batches_total', 'Statements that committed several appends together (group commit)', 'batches'],
    ['sekha_append_batched_total', 'Appends committed in those statements', 'batchedAppends'],
    ['sekha_append_batch_fallbacks_total', 'Batches an error aborted, whose appends then went one by one', 'fallbacks'],
    ['sekha_append_batch_stalls_total', 'Times queued appends went on past a statement in flight too long (waiting on a lock)', 'stalls'],
  ];
  for (const [name, help, key] of appendCounters) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        if (appendBatches) this.inc(appendBatches[key]);
      },
    });
  }
  new Gauge({
    name: 'sekha_db_pool_connections',
    help: 'PostgreSQL pool connections by pool and state (total, idle, waiting clients)',
    labelNames: ['pool', 'state'],
    registers,
    collect() {
      for (const [name, pool] of pools) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
    },
  });
  return metrics;
}
