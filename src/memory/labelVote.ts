/** A nearby conversation: its label and how similar it is (cosine, 0–1). */
export interface Neighbour {
  conversation_id: string;
  label: string;
  similarity: number;
}

/** A distinctive term of the conversation: share of its messages that use it, and how rare it is elsewhere (0–1). */
export interface KeyTerm {
  term: string;
  coverage: number;
  rarity: number;
  messages: number;
}

export interface LabelSuggestion {
  label: string;
  confidence: number;
  is_existing: boolean;
  reason: string;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Suggests labels. Pure.
 * - Neighbours vote with their similarity: a label's confidence is the summed similarity of the neighbours
 *   that carry it divided by the number of neighbours, so it is high only when most near conversations
 *   are close and agree.
 * - A key term's confidence is coverage × rarity (in most messages here, rare elsewhere).
 * - The same label from both sources combines as independent evidence: 1 − (1 − a)(1 − b).
 */
export function suggestLabels(neighbours: readonly Neighbour[], terms: readonly KeyTerm[], existingLabels: readonly string[], limit = 5): LabelSuggestion[] {
  const byLabel = new Map<string, { confidence: number; reasons: string[] }>();
  const add = (label: string, confidence: number, reason: string) => {
    const seen = byLabel.get(label);
    if (seen) {
      seen.confidence = 1 - (1 - seen.confidence) * (1 - confidence);
      seen.reasons.push(reason);
    } else byLabel.set(label, { confidence, reasons: [reason] });
  };
  const k = neighbours.length;
  const votes = new Map<string, Neighbour[]>();
  for (const n of neighbours) votes.set(n.label, [...(votes.get(n.label) ?? []), n]);
  for (const [label, ns] of votes) {
    const weight = ns.reduce((s, n) => s + Math.max(0, n.similarity), 0);
    const examples = ns.slice(0, 3).map((n) => `${n.conversation_id.slice(0, 8)} (${n.similarity.toFixed(2)})`).join(', ');
    add(label, weight / k, `${ns.length} of the ${k} nearest conversations by meaning carry this label: ${examples}`);
  }
  const existing = new Map(existingLabels.map((l) => [l.toLowerCase(), l]));
  for (const t of terms) {
    const label = existing.get(t.term.toLowerCase()) ?? t.term;
    add(label, t.coverage * t.rarity, `key term "${t.term}" appears in ${t.messages} message${t.messages === 1 ? '' : 's'} here (${Math.round(t.coverage * 100)}%) and is ${t.rarity > 0.9 ? 'rare' : 'uncommon'} elsewhere`);
  }
  const existingSet = new Set(existingLabels);
  return [...byLabel.entries()]
    .map(([label, s]) => ({ label, confidence: round(Math.min(1, Math.max(0, s.confidence))), is_existing: existingSet.has(label), reason: s.reasons.join('; ') }))
    .sort((a, b) => b.confidence - a.confidence || a.label.localeCompare(b.label))
    .slice(0, limit);
}
