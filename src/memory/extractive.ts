/** Splits text into sentences: at . ! ? followed by space, and at line breaks. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

const cosine = (a: readonly number[], b: readonly number[]): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
};

/** How many sentences a summary of n keeps: a fifth, at least 1, at most 5. */
export const summaryLength = (n: number): number => Math.max(1, Math.min(5, Math.ceil(n / 5)));

/**
 * The `k` most central sentences (highest total cosine similarity to all the others: what the text keeps
 * coming back to), in their original order. Pure; `vectors[i]` embeds `sentences[i]`.
 */
export function centralSentences(sentences: readonly string[], vectors: readonly (readonly number[])[], k = summaryLength(sentences.length)): string[] {
  const centrality = sentences.map((_, i) => vectors.reduce((sum, v, j) => (i === j ? sum : sum + cosine(vectors[i]!, v)), 0));
  const chosen = centrality
    .map((score, i) => ({ score, i }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k)
    .map((c) => c.i)
    .sort((a, b) => a - b);
  return chosen.map((i) => sentences[i]!);
}
