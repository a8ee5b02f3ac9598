import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/index.js';
import { timedEmbedder } from '../../src/embeddings/timedEmbedder.js';

describe('timedEmbedder', () => {
  it('observes each batch, failures included, and passes model and vectors through', async () => {
    const metrics = createMetrics();
    let fail = false;
    const embedder = timedEmbedder(
      {
        model: 'm1',
        dimension: 2,
        embed: async (texts) => {
          if (fail) throw new Error('down');
          return texts.map(() => [0, 1]);
        },
      },
      metrics,
      'local',
    );
    expect(embedder.model).toBe('m1');
    expect(await embedder.embed(['a', 'b'])).toEqual([[0, 1], [0, 1]]);
    fail = true;
    await expect(embedder.embed(['c'])).rejects.toThrow('down');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/sekha_embed_duration_seconds_count\{provider="local",model="m1"\} 2/);
  });
});
