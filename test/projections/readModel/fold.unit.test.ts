import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/eventstore/index.js';
import { foldBatch, type Segment } from '../../../src/projections/readModel/fold.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
let n = 0;
const ev = (type: string, id: string, data: Record<string, unknown> = {}): RecordedEvent => ({
  type,
  data: { conversation_id: id, at: `2025-01-01T00:00:${String(++n).padStart(2, '0')}.000Z`, ...data },
  eventId: `e${n}`,
  streamId: `conversation-${id}`,
  streamVersion: n,
  position: { transactionId: 1n, globalPosition: n },
  metadata: { actor: 't' },
  createdAt: new Date(0),
});
const msg = (id: string, seq: number, content: unknown) => ({ id, seq, role: 'user', content, timestamp: `2025-02-0${seq}T00:00:00.000Z`, metadata: {} });

describe('foldBatch', () => {
  it('folds a conversation started in the batch into one row with its final values', () => {
    const steps = foldBatch([
      ev('ConversationStarted', A, { label: 'x', folder: '/f', importance_score: 4, metadata: { k: 1 } }),
      ev('MessagesAppended', A, { messages: [msg('00000000-0000-4000-8000-000000000001', 1, 'one two'), msg('00000000-0000-4000-8000-000000000002', 2, [{ type: 'text', text: 'three' }, { type: 'image_url', image_url: { url: 'u' } }])] }),
      ev('ConversationLabeled', A, { label: 'y' }),
      ev('ConversationPinned', A),
      ev('ImportanceSet', A, { importance_score: 9 }),
    ]);
    expect(steps).toHaveLength(1);
    const s = steps[0] as Segment;
    expect(s.patches).toEqual([]);
    expect(s.inserts).toEqual([
      expect.objectContaining({ id: A, label: 'y', folder: '/f', pinned: true, importance_score: 9, message_count: 2, word_count: 3, last_message_at: '2025-02-02T00:00:00.000Z', version: n }),
    ]);
    expect(s.messages.map((m) => [m.id, m.content, m.parts === null])).toEqual([
      ['00000000-0000-4000-8000-000000000001', 'one two', true],
      ['00000000-0000-4000-8000-000000000002', 'three', false],
    ]);
  });

  it('turns events of a conversation stored earlier into one patch: last value wins, counters add', () => {
    const [s] = foldBatch([
      ev('MessagesAppended', B, { messages: [msg('00000000-0000-4000-8000-000000000003', 3, 'a b c')] }),
      ev('ConversationArchived', B),
      ev('MessagesAppended', B, { messages: [msg('00000000-0000-4000-8000-000000000004', 4, 'd')] }),
      ev('ConversationUnarchived', B),
      ev('ConversationMovedToFolder', B, { folder: '/g' }),
    ]) as [Segment];
    expect(s.inserts).toEqual([]);
    expect(s.patches).toEqual([
      { id: B, set: expect.objectContaining({ status: 'active', folder: '/g', last_message_at: '2025-02-04T00:00:00.000Z', version: n }), add_messages: 2, add_words: 4 },
    ]);
  });

  it('closes the segment at a purge so that it runs after the rows it removes, and skips unknown types', () => {
    const steps = foldBatch([ev('ConversationStarted', A, { label: 'x' }), ev('SomethingNew', A), ev('ConversationPurged', A), ev('ConversationPinned', B)]);
    expect(steps.map((s) => s.kind)).toEqual(['rows', 'purge', 'rows']);
  });

  it('tolerates redacted or missing data', () => {
    const [s] = foldBatch([ev('MessagesAppended', A, { messages: [{ id: B, content: null }, 'junk', { id: 'not-a-uuid', content: 'x' }] }), ev('ImportanceSet', A, { importance_score: 'high' })]) as [Segment];
    expect(s.messages.map((m) => [m.id, m.content])).toEqual([[B, '']]);
    expect(s.patches[0]!.set.importance_score).toBe(5);
  });
});
