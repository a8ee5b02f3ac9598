import type pg from 'pg';
import type { Logger } from 'pino';
import { comparePositions, type AppendNotifier } from '../eventstore/index.js';
import { createProgressBus, type ProgressBus } from './bus.js';
import { listCheckpoints, liveCheckpoint } from './checkpoints.js';
import { createLease, leaseHolderExists, noLease } from './lease.js';
import { startRunner, type Runner } from './runner.js';
import type { ProjectionDefinition, ProjectorStatus } from './types.js';
import { dropRetired, ensureLiveVersion, requestRebuild, trySwitch } from './versions.js';
import { listenWakeup, localWakeup, type Wakeup } from '../eventstore/wakeup.js';

export interface RuntimeOptions {
  /** The primary pool. */
  pool: pg.Pool;
  /** The primary's URL, for the LISTEN connection and the lease connections. */
  url: string;
  logger: Logger;
  /** Events per batch. Default 500. */
  batchSize?: number;
  /** The slow poll when no NOTIFY comes. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Take advisory-lock leases (several instances). Default true. */
  lease?: boolean;
  /** How often a held lease is re-checked and a standby retries. Default 2000 ms. */
  leaseCheckMs?: number;
  /** LISTEN for wake-ups (else only the poll and local nudges). Default true. */
  listen?: boolean;
  bus?: ProgressBus;
  /** This process's appends: each commit is put on the bus and wakes the runners at once (no NOTIFY round trip). */
  appends?: Pick<AppendNotifier, 'onCommitted'>;
  /** Warn when an open transaction has held a projector's reads back this long. Default 10 000 ms. */
  heldBackWarnMs?: number;
  /** SQL projectors commit without waiting for the WAL flush (see RunnerOptions.asyncCommit). Default false. */
  asyncCommit?: boolean;
}

/** What one projector version is doing in this process. */
export interface LocalStatus {
  name: string;
  version: number;
  status: ProjectorStatus;
  position: import('../eventstore/index.js').Position;
  lastError: string | undefined;
}

/** The projection runtime: runs the live and building versions of each definition under leases. */
export interface ProjectionRuntime {
  readonly bus: ProgressBus;
  /** The LISTEN wake-up of this runtime once started (live event streams share it). */
  readonly wakeup: Wakeup | undefined;
  readonly definitions: readonly ProjectionDefinition[];
  /** Creates missing live versions and starts runners; resolves once they are started. */
  start(): Promise<void>;
  /** Starts a rebuild of `name` beside the live version; answers the version being built. */
  rebuild(name: string): Promise<{ version: number; created: boolean }>;
  /** Local runners. */
  status(): LocalStatus[];
  /** Re-reads versions now: starts/stops runners, switches caught-up rebuilds, drops retired ones. */
  sync(): Promise<void>;
  /** Stops every runner after its current batch, and the listener. */
  stop(): Promise<void>;
}

const key = (name: string, version: number) => `${name}@${version}`;

export function createProjectionRuntime(options: RuntimeOptions, definitions: readonly ProjectionDefinition[]): ProjectionRuntime {
  const bus = options.bus ?? createProgressBus();
  const log = options.logger.child({ component: 'projections' });
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const leaseCheckMs = options.leaseCheckMs ?? 2000;
  const useLease = options.lease ?? true;
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const runners = new Map<string, Runner>();
  let wakeup: Wakeup | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let syncing: Promise<void> | undefined;
  let again = false;
  let unsubscribeAppends: (() => void) | undefined;

  const startVersion = (definition: ProjectionDefinition, version: number) => {
    const projector = definition.create(version);
    const lease = useLease
      ? createLease({
          url: options.url,
          name: definition.name,
          version,
          checkMs: leaseCheckMs,
          onLost: (reason) => log.warn({ projector: definition.name, version, reason }, 'projector lease lost; stopping work'),
        })
      : noLease();
    const runner = startRunner({
      projector,
      pool: options.pool,
      lease,
      wakeup: wakeup!,
      bus,
      logger: log,
      batchSize: options.batchSize ?? 500,
      pollIntervalMs,
      leaseRetryMs: leaseCheckMs,
      ...(options.heldBackWarnMs !== undefined ? { heldBackWarnMs: options.heldBackWarnMs } : {}),
      asyncCommit: options.asyncCommit ?? false,
      onGone: () => void sync(),
    });
    runners.set(key(definition.name, version), runner);
  };

  async function syncOnce(): Promise<void> {
    const rows = await listCheckpoints(options.pool, [...byName.keys()]);
    building.clear();
    for (const r of rows) if (r.state === 'building') building.add(key(r.name, r.version));
    const wanted = new Set(rows.filter((r) => r.state !== 'retired').map((r) => key(r.name, r.version)));
    for (const [k, runner] of runners) {
      if (!wanted.has(k) || runner.status === 'stopped') {
        runners.delete(k);
        await runner.stop();
      }
    }
    if (stopping) return;
    for (const row of rows) {
      if (row.state !== 'retired' && !runners.has(key(row.name, row.version))) startVersion(byName.get(row.name)!, row.version);
    }
    for (const definition of definitions) {
      const rebuilt = rows.filter((r) => r.name === definition.name && r.state === 'building').at(-1);
      if (!rebuilt) continue;
      const live = rows.find((r) => r.name === definition.name && r.state === 'live');
      // Prepared once, as soon as its runner has reached the head here (under steady writes it may never
      // equal the live position in a snapshot) or this sync reads it caught up: a switch that came
      // first would build inside its transaction, holding the live projector meanwhile.
      const k = key(definition.name, rebuilt.version);
      if (definition.prepare && !prepared.has(k) && (!live || reachedHead.has(k) || comparePositions(rebuilt.position, live.position) >= 0)) {
        const started = Date.now();
        await definition.prepare(options.pool, rebuilt.version);
        prepared.add(k);
        log.info({ projector: definition.name, version: rebuilt.version, ms: Date.now() - started }, 'prepared the rebuilt projection version to go live');
      }
      // Only a prepared version switches: this sync's rows may have seen it short of the live position
      // while the switch, looking again, finds it caught up (a race that built inside the switch).
      // The next sync prepares it first.
      if (definition.prepare && !prepared.has(k)) continue;
      const switched = await trySwitch(options.pool, definition);
      if (switched) {
        reachedHead.delete(k);
        prepared.delete(k);
        log.info({ projector: definition.name, ...switched }, 'switched to the rebuilt projection version');
        bus.emit('switched', { name: definition.name, from: switched.from, to: switched.to });
        again = true;
      }
    }
    for (const row of rows.filter((r) => r.state === 'retired')) {
      if (runners.has(key(row.name, row.version))) continue;
      if (useLease && (await leaseHolderExists(options.pool, row.name, row.version))) continue;
      await dropRetired(options.pool, byName.get(row.name)!, row);
      log.info({ projector: row.name, version: row.version }, 'dropped retired projection version');
    }
  }

  /** Asks for a rebuild of each live version built under settings other than this process's (one already building is reused). */
  async function rebuildOutdated(): Promise<void> {
    for (const definition of definitions) {
      if (!definition.outdated) continue;
      const live = await liveCheckpoint(options.pool, definition.name);
      const reason = live && (await definition.outdated(options.pool, live.version));
      if (!reason) continue;
      const { version, created } = await requestRebuild(options.pool, definition.name);
      log.info({ projector: definition.name, version: live.version, rebuild: version, created, reason }, 'the live version was built under other settings: rebuilding it');
    }
  }

  /** One sync at a time; a request during a sync runs another right after. */
  function sync(): Promise<void> {
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        again = false;
        await syncOnce().catch((e: unknown) => log.warn({ err: { message: (e as Error).message } }, 'projection sync failed'));
      } while (again && !stopping);
    })().finally(() => (syncing = undefined));
    return syncing;
  }

  // A building version at the head may now be switchable: look at once rather than at the next tick.
  const building = new Set<string>();
  const nearHead = (name: string, version: number) => building.has(key(name, version)) && !stopping;
  // Rebuilt versions whose runner here has reached the head (a short batch, or idle), and those prepared.
  const reachedHead = new Set<string>();
  const prepared = new Set<string>();
  const atHead = (name: string, version: number) => {
    reachedHead.add(key(name, version));
    void sync();
  };
  bus.on('progress', (p) => {
    if (nearHead(p.name, p.version) && p.events < (options.batchSize ?? 500)) atHead(p.name, p.version);
  });
  bus.on('status', (s) => {
    if (nearHead(s.name, s.version) && s.status === 'idle') atHead(s.name, s.version);
  });
  const wakeRunners = () => wakeup?.nudge();

  return {
    bus,
    get wakeup() {
      return wakeup;
    },
    definitions,
    async start() {
      wakeup = options.listen === false ? localWakeup() : listenWakeup(options.url, log);
      bus.on('appended', wakeRunners);
      unsubscribeAppends = options.appends?.onCommitted((position) => bus.emit('appended', position));
      for (const definition of definitions) await ensureLiveVersion(options.pool, definition);
      await rebuildOutdated();
      await sync();
      const tick = () => {
        timer = setTimeout(() => {
          void sync().finally(() => {
            if (!stopping) tick();
          });
        }, pollIntervalMs);
        timer.unref();
      };
      tick();
    },
    async rebuild(name) {
      if (!byName.has(name)) throw new Error(`unknown projection ${name}`);
      const result = await requestRebuild(options.pool, name);
      await sync();
      return result;
    },
    status() {
      return [...runners.values()].map((r) => ({ name: r.name, version: r.version, status: r.status, position: r.position, lastError: r.lastError }));
    },
    sync,
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      unsubscribeAppends?.();
      bus.off('appended', wakeRunners);
      await syncing;
      await Promise.all([...runners.values()].map((r) => r.stop()));
      runners.clear();
      await wakeup?.close();
    },
  };

}
