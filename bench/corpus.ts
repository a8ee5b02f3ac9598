/**
 * A deterministic, realistic-looking corpus: conversations of varied lengths about a set of topics,
 * with labels, nested folders, importance and timestamps spread over a year. Same seed, same corpus.
 */

/** mulberry32: a small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOPICS: Record<string, { folder: string; words: string[] }> = {
  'postgres-tuning': { folder: '/work/databases', words: ['index', 'vacuum', 'query plan', 'shared_buffers', 'replica', 'WAL', 'autovacuum', 'latency', 'connection pool', 'partition'] },
  'kubernetes': { folder: '/work/infra', words: ['pod', 'deployment', 'HPA', 'ingress', 'node pool', 'helm chart', 'liveness probe', 'namespace', 'rollout', 'config map'] },
  'travel-japan': { folder: '/personal/travel', words: ['Kyoto', 'rail pass', 'ryokan', 'Shinkansen', 'temple', 'itinerary', 'Osaka', 'cherry blossom', 'onsen', 'visa'] },
  'cooking': { folder: '/personal/home', words: ['sourdough', 'starter', 'oven', 'braise', 'spice', 'knife', 'fermentation', 'stock', 'recipe', 'dough'] },
  'ml-research': { folder: '/work/research', words: ['embedding', 'transformer', 'fine-tuning', 'evaluation', 'recall', 'dataset', 'tokenizer', 'attention', 'loss curve', 'benchmark'] },
  'finance': { folder: '/personal/finance', words: ['budget', 'index fund', 'mortgage', 'tax return', 'savings', 'invoice', 'pension', 'interest rate', 'expenses', 'dividend'] },
  'frontend': { folder: '/work/web', words: ['React', 'component', 'CSS grid', 'bundle size', 'hydration', 'accessibility', 'state', 'router', 'form', 'animation'] },
  'health': { folder: '/personal/health', words: ['sleep', 'running', 'protein', 'stretching', 'heart rate', 'hydration', 'marathon', 'injury', 'recovery', 'yoga'] },
};
export const TOPIC_NAMES = Object.keys(TOPICS);

const FILLER = ['we', 'should', 'consider', 'the', 'next', 'step', 'because', 'it', 'seems', 'that', 'our', 'current', 'approach', 'works', 'but', 'could', 'be', 'better', 'with', 'more', 'careful', 'thought', 'about', 'details', 'and', 'trade-offs'];

function sentence(r: () => number, words: string[]): string {
  const n = 6 + Math.floor(r() * 14);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r() < 0.25 ? words[Math.floor(r() * words.length)]! : FILLER[Math.floor(r() * FILLER.length)]!);
  const s = out.join(' ');
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
}

export interface CorpusConversation {
  label: string;
  folder: string;
  importance_score: number;
  messages: { role: 'user' | 'assistant'; content: string; timestamp: string }[];
}

/** The i-th conversation of the corpus for `seed` (random access: no need to generate the ones before). */
export function conversationAt(seed: number, i: number, messagesPer = 10): CorpusConversation {
  const r = rng(seed * 1_000_003 + i);
  const topic = TOPIC_NAMES[Math.floor(r() * TOPIC_NAMES.length)]!;
  const { folder, words } = TOPICS[topic]!;
  const start = Date.UTC(2025, 0, 1) + Math.floor(r() * 365 * 86_400_000);
  const messages = Array.from({ length: messagesPer }, (_, m) => {
    // Varied lengths: mostly short turns, some long answers.
    const sentences = m % 2 === 1 && r() < 0.3 ? 4 + Math.floor(r() * 8) : 1 + Math.floor(r() * 3);
    return {
      role: (m % 2 === 0 ? 'user' : 'assistant') as 'user' | 'assistant',
      content: Array.from({ length: sentences }, () => sentence(r, words)).join(' '),
      timestamp: new Date(start + m * 60_000).toISOString(),
    };
  });
  return { label: `${topic}${r() < 0.5 ? '' : `-${Math.floor(r() * 20)}`}`, folder: `${folder}${r() < 0.3 ? `/sub${Math.floor(r() * 5)}` : ''}`, importance_score: 1 + Math.floor(r() * 10), messages };
}

/** A query in the corpus's vocabulary, for search benchmarks. */
export function queryAt(seed: number, i: number): string {
  const r = rng(seed * 7919 + i);
  const { words } = TOPICS[TOPIC_NAMES[Math.floor(r() * TOPIC_NAMES.length)]!]!;
  return `${words[Math.floor(r() * words.length)]} ${words[Math.floor(r() * words.length)]}`;
}
