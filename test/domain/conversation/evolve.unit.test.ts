import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evolve,
  foldConversation,
  initialState,
  textOf,
  wordCount,
  type ConversationEvent,
  type MessageRecord,
} from '../../../src/domain/conversation/index.js';

const ID = '22222222-2222-4222-8222-222222222222';
const at = (day: number) => `2026-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;
const ev = (type: Exclude<ConversationEvent['type'], 'ConversationStarted' | 'MessagesAppended' | 'ConversationLabeled' | 'ConversationMovedToFolder' | 'ImportanceSet'>, day: number) =>
  ({ type, data: { conversation_id: ID, at: at(day) } }) as ConversationEvent;

const started: ConversationEvent = {
  type: 'ConversationStarted',
  data: { conversation_id: ID, at: at(1), label: 'l', folder: '/', importance_score: 4, metadata: { source: 'test' } },
};
const record = (seq: number, content: MessageRecord['content'], day: number): MessageRecord => ({
  id: `m${seq}`,
  seq,
  role: 'user',
  content,
  timestamp: at(day),
  metadata: {},
});

describe('evolve', () => {
  it('starts a conversation from ConversationStarted', () => {
    expect(evolve(initialState(), started)).toEqual({
      status: 'active',
      id: ID,
      label: 'l',
      folder: '/',
      pinned: false,
      importance_score: 4,
      message_count: 0,
      word_count: 0,
      metadata: { source: 'test' },
      created_at: at(1),
      updated_at: at(1),
      last_message_at: null,
    });
  });

  it('ignores events before a start (an empty stream stays empty)', () => {
    expect(evolve(initialState(), ev('ConversationPinned', 2))).toEqual({ status: 'empty' });
  });

  it('counts messages and words (text parts only), and tracks the last message time', () => {
    const state = foldConversation([
      started,
      {
        type: 'MessagesAppended',
        data: {
          conversation_id: ID,
          at: at(3),
          messages: [
            record(1, 'one two three', 2),
            record(2, [{ type: 'text', text: 'four five' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }], 3),
          ],
        },
      },
    ]);
    expect(state).toMatchObject({ message_count: 2, word_count: 5, last_message_at: at(3), updated_at: at(3), created_at: at(1) });
  });

  it('applies label, folder, pin, archive, importance and delete, moving updated_at each time', () => {
    const steps: [ConversationEvent, Record<string, unknown>][] = [
      [{ type: 'ConversationLabeled', data: { conversation_id: ID, at: at(2), label: 'new' } }, { label: 'new', folder: '/' }],
      [{ type: 'ConversationLabeled', data: { conversation_id: ID, at: at(3), label: 'n2', folder: '/f' } }, { label: 'n2', folder: '/f' }],
      [{ type: 'ConversationMovedToFolder', data: { conversation_id: ID, at: at(4), folder: '/g' } }, { folder: '/g' }],
      [ev('ConversationPinned', 5), { pinned: true }],
      [ev('ConversationUnpinned', 6), { pinned: false }],
      [ev('ConversationArchived', 7), { status: 'archived' }],
      [ev('ConversationUnarchived', 8), { status: 'active' }],
      [{ type: 'ImportanceSet', data: { conversation_id: ID, at: at(9), importance_score: 10 } }, { importance_score: 10 }],
      [ev('ConversationDeleted', 10), { status: 'deleted' }],
    ];
    let state = evolve(initialState(), started);
    for (const [event, expected] of steps) {
      state = evolve(state, event);
      expect(state).toMatchObject({ ...expected, updated_at: event.data.at, created_at: at(1) });
    }
  });

  it('message_count is the number of messages appended, however they are batched', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string(), { maxLength: 5 }), { maxLength: 8 }), (batches) => {
        let seq = 0;
        const events: ConversationEvent[] = [
          started,
          ...batches.map(
            (texts): ConversationEvent => ({
              type: 'MessagesAppended',
              data: { conversation_id: ID, at: at(2), messages: texts.map((t) => record(++seq, t, 2)) },
            }),
          ),
        ];
        const state = foldConversation(events);
        const words = batches.flat().reduce((n, t) => n + wordCount(t), 0);
        expect(state).toMatchObject({ message_count: seq, word_count: words });
      }),
    );
  });
});

describe('textOf', () => {
  it('keeps a string, and joins text parts skipping images', () => {
    expect(textOf('plain')).toBe('plain');
    expect(textOf([{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'u' } }, { type: 'text', text: 'b' }])).toBe('a\n\nb');
  });
  it('counts no words in blank text', () => {
    expect(wordCount('  \n\t ')).toBe(0);
    expect(wordCount(' a  b\nc ')).toBe(3);
  });
});
