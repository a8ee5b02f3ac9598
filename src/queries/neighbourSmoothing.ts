import type { Ranking } from './searchFusion.js';
import { byScoreThenId } from '../util/rank.js';

/** Where a candidate sits: its conversation and its place in it. */
export interface Placement {
  conversation_id: string;
  seq: number;
}

/**
 * Neighbour smoothing (pure): each candidate gains `weight` × the best score among the candidates right
 * next to it in its conversation (seq − 1, seq + 1). In dialogue the evidence for a question is often
 * a turn and its reply; a turn that matches next to one that matches strongly moves up. Only the
 * candidates are looked at (the top of each retriever), never the whole store. Best first.
 */
export function smoothNeighbours(ranked: Ranking, placed: ReadonlyMap<string, Placement>, weight: number): { id: string; score: number }[] {
  if (weight <= 0) return [...ranked];
  const at = new Map<string, number>();
  for (const h of ranked) {
    const p = placed.get(h.id);
    if (p) at.set(`${p.conversation_id}:${p.seq}`, h.score);
  }
  return ranked
    .map((h) => {
      const p = placed.get(h.id);
      const best = p ? Math.max(at.get(`${p.conversation_id}:${p.seq - 1}`) ?? 0, at.get(`${p.conversation_id}:${p.seq + 1}`) ?? 0) : 0;
      return { id: h.id, score: h.score + weight * best };
    })
    .sort(byScoreThenId);
}
