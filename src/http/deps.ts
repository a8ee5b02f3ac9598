import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import type { Pools } from '../db/pools.js';
import type { EventStore } from '../eventstore/index.js';

/** Everything routes need, passed in (never imported as singletons) so tests build apps from real parts. */
export interface AppDeps {
  config: ResolvedConfig;
  pools: Pools;
  store: EventStore;
  logger: Logger;
  /** The clock; commands take their time from it. */
  clock: () => Date;
  startedAt: Date;
  version: string;
}
