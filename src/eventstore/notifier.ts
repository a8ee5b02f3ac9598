import type pg from 'pg';
import { comparePositions, formatPosition, type Position } from './position.js';
import { EVENTS_CHANNEL } from './types.js';

/** Default coalescing window: long enough to gather a burst, short next to a projector batch. */
export const DEFAULT_NOTIFY_WINDOW_MS = 2;

export interface AppendNotifierOptions {
  /** After a commit, how long the NOTIFY waits to cover more commits. 0: at the next turn of the event loop. */
  windowMs?: number;
  /** A NOTIFY that failed (the hint is lost; projectors' polls cover it). */
  onError?: (error: unknown) => void;
}

/**
 * Tells readers that appends committed. In this process at once (listeners, e.g. the projection
 * runtime's wake-up); to other processes by one NOTIFY sent after the commit for every append that
 * committed within the window, at most one in flight. The NOTIFY is a hint: it is not sent inside
 * the append's transaction (PostgreSQL serialises the commits of notifying transactions on one lock),
 * so a crash between the commit and the NOTIFY loses it, and readers' polls cover that.
 */
export interface AppendNotifier {
  /** An append committed; `position` is its last event. */
  committed(position: Position): void;
  /** Calls `listener` on every commit of this process; answers the unsubscribe. */
  onCommitted(listener: (position: Position) => void): () => void;
  /** NOTIFYs sent (committed) so far. */
  readonly sent: number;
  /** Sends what is pending now; resolves when nothing is pending or in flight. */
  flush(): Promise<void>;
}

export function createAppendNotifier(pool: pg.Pool, options: AppendNotifierOptions = {}): AppendNotifier {
  const windowMs = options.windowMs ?? DEFAULT_NOTIFY_WINDOW_MS;
  const listeners = new Set<(position: Position) => void>();
  let latest: Position | undefined;
  let pending = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let sent = 0;

  const send = (): Promise<void> => {
    timer = undefined;
    pending = false;
    const payload = formatPosition(latest!);
    // Its commit does not wait for its WAL to reach disk (synchronous_commit off in this transaction
    // alone): it writes no data and names appends already on disk. Waiting made each NOTIFY a WAL
    // flush of its own that appends' commits queued behind (a lone writer's latency most of all).
    inFlight = pool
      .query("select set_config('synchronous_commit', 'off', true), pg_notify($1, $2)", [EVENTS_CHANNEL, payload])
      .then(
        () => void sent++,
        (e: unknown) => options.onError?.(e),
      )
      .finally(() => {
        inFlight = undefined;
        // Commits during the flight: one more NOTIFY covers them all.
        if (pending) schedule();
      });
    return inFlight;
  };

  const schedule = () => {
    if (timer || inFlight) return;
    timer = setTimeout(() => void send(), windowMs);
    // A pending hint must not keep a finishing process alive: the poll covers a lost one.
    timer.unref();
  };

  return {
    committed(position) {
      if (!latest || comparePositions(position, latest) > 0) latest = position;
      pending = true;
      schedule();
      for (const listener of listeners) {
        try {
          listener(position);
        } catch (e) {
          options.onError?.(e);
        }
      }
    },
    onCommitted(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    get sent() {
      return sent;
    },
    async flush() {
      while (pending || inFlight) {
        if (inFlight) await inFlight;
        else {
          clearTimeout(timer);
          await send();
        }
      }
    },
  };
}
