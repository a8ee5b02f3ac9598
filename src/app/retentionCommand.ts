import type { ResolvedConfig } from '../config/load.js';
import { configuredDatabase } from '../db/embeddedPostgres.js';
import { migrate } from '../db/migrate.js';
import { createPools } from '../db/pools.js';
import { configuredEventStore } from './eventStore.js';
import type { AppDeps } from '../deps.js';
import { createLogger } from '../logger.js';
import { bm25Params } from '../queries/bm25.js';
import { prepareReadModel } from '../projections/index.js';
import { VERSION } from '../version.js';
import { planRetention, type RetentionItem } from '../retention/plan.js';
import { startRetentionScheduler } from '../retention/scheduler.js';

const line = (i: RetentionItem, extra = '') =>
  `${i.action.padEnd(7)} ${i.conversation_id}  rule=${i.rule}  folder=${i.folder}  label=${JSON.stringify(i.label)}  last_activity=${i.last_activity}${extra}\n`;

/**
 * `sekha retention run [--dry-run] [--json]`: runs the retention rules once against the configured
 * database (under the same lease as the service's scheduler), or prints what a run would do — the
 * same plan GET /api/v1/retention/preview answers. Returns the exit code.
 */
export async function retentionCommand(config: ResolvedConfig, options: { dryRun: boolean; json: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const logger = createLogger(config.log_level === 'info' ? 'warn' : config.log_level);
  const { url, embedded } = await configuredDatabase(config);
  const pools = createPools(url, config.database.read_url, config.database);
  try {
    await migrate(pools.write);
    await prepareReadModel(pools, bm25Params(config.search));
    const deps: AppDeps = { config, pools, store: configuredEventStore(pools.write, config), logger, clock: () => new Date(), startedAt: new Date(), version: VERSION };
    if (config.retention.rules.length === 0) {
      out.write('no [[retention.rules]] configured\n');
      return 0;
    }
    if (options.dryRun) {
      const plan = await planRetention(deps);
      if (plan.isErr()) {
        out.write(`retention: ${plan.error.message}\n`);
        return 1;
      }
      if (options.json) out.write(`${JSON.stringify({ ...plan.value, rules: config.retention.rules.map((r) => r.name) }, null, 2)}\n`);
      else {
        for (const item of plan.value.items) out.write(line(item));
        out.write(`${plan.value.items.length} conversation(s) would be acted on at ${plan.value.at}${plan.value.truncated ? ' (more wait for the next run)' : ''}\n`);
      }
      return 0;
    }
    const scheduler = startRetentionScheduler(deps, { url, timer: false });
    try {
      const report = await scheduler.runNow();
      if (!report) {
        out.write('retention: another instance holds the retention lease (or the run failed; see the log); nothing done\n');
        return 1;
      }
      if (options.json) out.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        for (const item of report.acted) out.write(line(item, `  position=${item.position}`));
        for (const item of report.skipped) out.write(line(item, `  skipped: ${item.reason}`));
        out.write(`${report.acted.length} acted, ${report.skipped.length} skipped (run ${report.run_id})\n`);
      }
      return 0;
    } finally {
      await scheduler.stop();
    }
  } finally {
    await pools.close();
    await embedded?.stop();
  }
}
