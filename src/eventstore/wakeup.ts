import pgListen, { type Subscriber } from 'pg-listen';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL } from './types.js';

// pg-listen is CommonJS with a `default` export; under Node's ESM interop that is `.default`.
const createSubscriber = (pgListen as unknown as { default: typeof pgListen.default }).default;

/**
 * Wakes projector loops: a NOTIFY on the events channel, a reconnect of the listener (events may
 * have been missed), a local nudge, or the slow poll. Every wake-up is only a hint; runners always
 * re-read from their checkpoint.
 */
export interface Wakeup {
  /** Increases on every wake-up; read it before checking for work, pass it to `wait`. */
  readonly generation: number;
  /** Resolves on the next wake-up after `since`, after `ms`, or at once when one already happened. */
  wait(since: number, ms: number): Promise<void>;
  /** Wakes every waiter now. */
  nudge(): void;
  close(): Promise<void>;
}

/** A wake-up without LISTEN (tests, or a poll-only setup). */
export function localWakeup(): Wakeup {
  let generation = 0;
  const waiters = new Set<() => void>();
  const nudge = () => {
    generation++;
    for (const w of [...waiters]) w();
  };
  return {
    get generation() {
      return generation;
    },
    wait(since, ms) {
      if (generation !== since) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiters.add(done);
      });
    },
    nudge,
    close: async () => nudge(),
  };
}

/**
 * LISTENs on the primary through pg-listen, reconnecting forever after a server restart; if the
 * listener gives up it is rebuilt after a pause. Waiters still wake on their poll interval meanwhile.
 */
export function listenWakeup(url: string, logger: Logger): Wakeup {
  const local = localWakeup();
  let closed = false;
  let subscriber: Subscriber | undefined;
  let retry: NodeJS.Timeout | undefined;

  const open = async (): Promise<void> => {
    if (closed) return;
    const s = createSubscriber(
      { connectionString: url, application_name: 'sekha-listen' },
      { parse: (payload: string) => payload, retryLimit: Infinity, retryTimeout: 0, retryInterval: (n: number) => Math.min(200 * 2 ** n, 5000), paranoidChecking: 10_000 },
    );
    subscriber = s;
    s.notifications.on(EVENTS_CHANNEL, () => local.nudge());
    s.events.on('connected', () => local.nudge());
    s.events.on('reconnect', (attempt: number) => logger.debug({ attempt }, 'projection listener reconnecting'));
    s.events.on('error', (e: Error) => {
      logger.warn({ err: { message: e.message } }, 'projection listener failed; rebuilding it');
      reopen(s);
    });
    try {
      await s.connect();
      await s.listenTo(EVENTS_CHANNEL);
      local.nudge();
    } catch (e) {
      logger.warn({ err: { message: (e as Error).message } }, 'projection listener cannot connect; retrying');
      reopen(s);
    }
  };
  const reopen = (s: Subscriber) => {
    if (subscriber !== s || closed) return;
    subscriber = undefined;
    s.events.removeAllListeners('error');
    s.events.on('error', () => {});
    s.close().catch(() => {});
    retry = setTimeout(() => void open(), 1000);
  };
  void open();

  return {
    get generation() {
      return local.generation;
    },
    wait: local.wait,
    nudge: local.nudge,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const s = subscriber;
      subscriber = undefined;
      await s?.close().catch(() => {});
      await local.close();
    },
  };
}
