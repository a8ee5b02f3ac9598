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
 * - Neighbours vote with similarity³ (close ones dominate, the far tail barely counts). A label's confidence
 *   is its share of the vote times the similarity of its closest carrier: high only when the nearest
 *   conversations agree and are really close.
 * - A key term's confidence is ½ × coverage × rarity × n/(n+1) for a term in n messages (in most messages
 *   here, rare elsewhere, seen more than once): a word alone is weaker evidence than labelled neighbours,
 *   so it never exceeds 0.5.
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
  const weight = (n: Neighbour) => Math.max(0, n.similarity) ** 3;
  const total = neighbours.reduce((s, n) => s + weight(n), 0);
  const votes = new Map<string, Neighbour[]>();
  for (const n of neighbours) votes.set(n.label, [...(votes.get(n.label) ?? []), n]);
  for (const [label, ns] of votes) {
    const share = total > 0 ? ns.reduce((s, n) => s + weight(n), 0) / total : 0;
    const closest = Math.max(0, ...ns.map((n) => n.similarity));
    const examples = ns.slice(0, 3).map((n) => `${n.conversation_id.slice(0, 8)} (${n.similarity.toFixed(2)})`).join(', ');
    add(label, share * closest, `${ns.length} of the ${k} nearest conversations by meaning carry this label (${Math.round(share * 100)}% of the similarity-weighted vote): ${examples}`);
  }
  const existing = new Map(existingLabels.map((l) => [l.toLowerCase(), l]));
  for (const t of terms) {
    const label = existing.get(t.term.toLowerCase()) ?? t.term;
    add(label, 0.5 * t.coverage * t.rarity * (t.messages / (t.messages + 1)), `key term "${t.term}" appears in ${t.messages} message${t.messages === 1 ? '' : 's'} here (${Math.round(t.coverage * 100)}%) and is ${t.rarity > 0.9 ? 'rare' : 'uncommon'} elsewhere`);
  }
  const existingSet = new Set(existingLabels);
  return [...byLabel.entries()]
    .map(([label, s]) => ({ label, confidence: round(Math.min(1, Math.max(0, s.confidence))), is_existing: existingSet.has(label), reason: s.reasons.join('; ') }))
    .sort((a, b) => b.confidence - a.confidence || a.label.localeCompare(b.label))
    .slice(0, limit);
}
