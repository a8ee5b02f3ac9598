import pg from 'pg';

/**
 * What a database's busy backends wait on, sampled from pg_stat_activity every few ms while work runs
 * (the profile of a benchmark case). `top()` answers the shares since the last call and starts afresh.
 */
export function waitSampler(url: string, everyMs = 3) {
  const counts = new Map<string, number>();
  return {
    async sampleUntil(until: number): Promise<void> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        while (performance.now() < until) {
          const { rows } = await client.query<{ w: string }>(
            `select coalesce(wait_event_type || ':' || wait_event, 'CPU (no wait)') as w from pg_stat_activity
              where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`,
          );
          for (const { w } of rows) counts.set(w, (counts.get(w) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, everyMs));
        }
      } finally {
        await client.end();
      }
    },
    top(n = 4): string {
      const total = [...counts.values()].reduce((a, b) => a + b, 0) || 1;
      const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([w, c]) => `${w} ${Math.round((100 * c) / total)}%`);
      counts.clear();
      return top.join(', ');
    },
  };
}
