import type { AppDeps } from '../deps.js';
import { createLease, noLease, type Lease } from '../projections/lease.js';
import { runRetention, type RetentionReport } from './run.js';

export interface RetentionScheduler {
  /** Runs the rules now if this instance holds (or can take) the lease; undefined when another one does. */
  runNow(): Promise<RetentionReport | undefined>;
  stop(): Promise<void>;
}

export interface RetentionSchedulerOptions {
  /** The primary's URL: the lease lives on a connection of its own. */
  url: string;
  /** Take the lease (several instances); default projections.lease. */
  lease?: boolean;
  /** Run on a timer every retention.interval_ms; default true (tests call runNow). */
  timer?: boolean;
}

/**
 * Runs the retention rules every `retention.interval_ms` in the one instance holding the retention
 * lease (an advisory lock, as projectors use): the others stay standby and take over when it dies.
 * Runs of one instance never overlap.
 */
export function startRetentionScheduler(deps: AppDeps, options: RetentionSchedulerOptions): RetentionScheduler {
  const log = deps.logger.child({ component: 'retention' });
  const lease: Lease =
    (options.lease ?? deps.config.projections.lease)
      ? createLease({
          url: options.url,
          name: 'retention',
          version: 1,
          checkMs: deps.config.projections.lease_check_ms,
          onLost: (reason) => log.warn({ reason }, 'retention lease lost; another instance may run the rules'),
        })
      : noLease();
  let running: Promise<RetentionReport | undefined> = Promise.resolve(undefined);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const runOnce = async (): Promise<RetentionReport | undefined> => {
    if (stopped || !(await lease.acquire())) return undefined;
    const result = await runRetention(deps);
    if (result.isErr()) {
      log.warn({ error: result.error }, 'retention run failed; the next one tries again');
      return undefined;
    }
    return result.value;
  };
  const runNow = () => (running = running.then(runOnce, runOnce));
  const schedule = () => {
    timer = setTimeout(() => {
      void runNow().finally(() => {
        if (!stopped) schedule();
      });
    }, deps.config.retention.interval_ms);
    timer.unref();
  };
  if (options.timer !== false) schedule();

  return {
    runNow,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
      await lease.release();
    },
  };
}
