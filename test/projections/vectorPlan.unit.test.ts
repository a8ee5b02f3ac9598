import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore/index.js';
import { eventsForTexts, planVectorBatch, textsToEmbed } from '../../src/projections/vectorPlan.js';

const C = '00000000-0000-4000-8000-00000000000c';
const [M1, M2, M3] = ['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000003'];
let n = 0;
const ev = (type: string, data: Record<string, unknown> = {}, conversation = C): RecordedEvent => ({
  type,
  data: { conversation_id: conversation, at: '2024-01-01T00:00:00Z', ...data },
  eventId: `e${++n}`,
  streamId: `conversation-${conversation}`,
  streamVersion: n,
  position: { transactionId: BigInt(n), globalPosition: n },
  metadata: { actor: 't' },
  createdAt: new Date('2024-01-01T00:00:00Z'),
});
const message = (id: string, content: unknown) => ({ id, seq: 1, role: 'user', content, timestamp: '2024-01-02T00:00:00Z', metadata: {} });

describe('planVectorBatch', () => {
  it('upserts new messages with the attributes as they stand after the batch', () => {
    const plan = planVectorBatch(
      [
        ev('ConversationStarted', { label: 'a', folder: '/f', importance_score: 4 }),
        ev('MessagesAppended', { messages: [message(M1, 'hello'), message(M2, [{ type: 'text', text: 'parts' }]), message(M3, '   ')] }),
        ev('ConversationPinned'),
      ],
      new Map(),
    );
    expect(plan.upserts.map((m) => [m.id, m.text])).toEqual([
      [M1, 'hello'],
      [M2, 'parts'],
    ]);
    expect(plan.attributes.get(C)).toEqual({ label: 'a', folder: '/f', status: 'active', pinned: true, importance: 4 });
  });

  it('updates the metadata of a known conversation, and deletion wins over everything before it', () => {
    const known = new Map([[C, { label: 'a', folder: '/', status: 'active' as const, pinned: false, importance: 5 }]]);
    const moved = planVectorBatch([ev('ConversationArchived'), ev('ConversationMovedToFolder', { folder: '/x' }), ev('ImportanceSet', { importance_score: 9 })], known);
    expect([...moved.updated]).toEqual([C]);
    expect(moved.attributes.get(C)).toMatchObject({ status: 'archived', folder: '/x', importance: 9 });
    const gone = planVectorBatch([ev('MessagesAppended', { messages: [message(M3, 'x')] }), ev('ConversationDeleted')], known);
    expect(gone.upserts).toEqual([]);
    expect([...gone.deleted]).toEqual([C]);
    expect(gone.updated.size).toBe(0);
    expect(gone.attributes.get(C)).toBeUndefined();
  });
});

describe('eventsForTexts', () => {
  const appended = (k: number) => ev('MessagesAppended', { messages: Array.from({ length: k }, (_, i) => message(`20000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'x')) });

  it('takes the leading events that hold the texts, at least one event, all when they hold fewer', () => {
    const events = [ev('ConversationStarted'), appended(10), ev('ConversationPinned'), appended(10), appended(10)];
    expect(eventsForTexts(events, 10)).toBe(2);
    expect(eventsForTexts(events, 15)).toBe(4);
    expect(eventsForTexts(events, 1000)).toBe(5);
    expect(eventsForTexts([appended(5000), appended(1)], 500)).toBe(1);
    expect(eventsForTexts([ev('ConversationStarted'), ev('ConversationArchived')], 1)).toBe(2);
    expect(eventsForTexts([], 10)).toBe(0);
  });
});

describe('textsToEmbed (what a prefetch embeds before the attributes are loaded)', () => {
  const D = '00000000-0000-4000-8000-00000000000d';
  it('is the appended texts, but for conversations the batch deletes or purges', () => {
    const events = [
      ev('ConversationStarted', { label: 'a', folder: '/', importance_score: 5 }),
      ev('MessagesAppended', { messages: [message(M1, 'kept'), message(M2, '  ')] }),
      ev('MessagesAppended', { messages: [message(M3, 'secret')] }, D),
      ev('ConversationPurged', {}, D),
    ];
    expect(textsToEmbed(events)).toEqual(['kept']);
  });

  it('holds the text of every upsert its batch plans, whatever the events and the known attributes', () => {
    const conversations = [C, D];
    const event = fc.oneof(
      fc.record({ c: fc.constantFrom(...conversations), kind: fc.constant('ConversationStarted') }),
      fc.record({ c: fc.constantFrom(...conversations), kind: fc.constant('MessagesAppended'), blank: fc.boolean() }),
      fc.record({ c: fc.constantFrom(...conversations), kind: fc.constantFrom('ConversationDeleted', 'ConversationPurged', 'ConversationPinned') }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), fc.subarray(conversations), (specs, known) => {
        let m = 0;
        const events = specs.map((e) =>
          e.kind === 'ConversationStarted'
            ? ev(e.kind, { label: 'l', folder: '/', importance_score: 5 }, e.c)
            : e.kind === 'MessagesAppended'
              ? ev(e.kind, { messages: [message(`30000000-0000-4000-8000-${String(++m).padStart(12, '0')}`, (e as { blank: boolean }).blank ? ' ' : `text ${m}`)] }, e.c)
              : ev(e.kind, {}, e.c),
        );
        const attributes = new Map(known.map((c) => [c, { label: 'l', folder: '/', status: 'active' as const, pinned: false, importance: 5 }]));
        const texts = new Set(textsToEmbed(events));
        for (const u of planVectorBatch(events, attributes).upserts) expect(texts.has(u.text)).toBe(true);
      }),
    );
  });
});
