import { describe, expect, it } from 'vitest';
import { changeOf, conversationIdOf, loggedChange, readLoggedEvent, type ConversationEvent } from '../../../src/domain/conversation/index.js';

const A = '00000000-0000-4000-8000-00000000000a';
const M = '10000000-0000-4000-8000-000000000001';
const at = { conversation_id: A, at: '2025-01-01T00:00:00.000Z' };
const logged = (type: string, data: unknown, streamId = `conversation-${A}`) => ({ type, data, streamId, createdAt: new Date('2024-12-31T00:00:00.000Z') });

describe('conversationIdOf', () => {
  it('takes the conversation_id of the data, else the id in the stream name, else the stream name', () => {
    expect(conversationIdOf({ streamId: 'conversation-x', data: { conversation_id: A } })).toBe(A);
    expect(conversationIdOf({ streamId: `conversation-${A}`, data: {} })).toBe(A);
    expect(conversationIdOf({ streamId: `conversation-${A}` })).toBe(A);
    expect(conversationIdOf({ streamId: 'other', data: { conversation_id: 7 } })).toBe('other');
  });
});

describe('changeOf', () => {
  it('says what each event changes', () => {
    const cases: [ConversationEvent, ReturnType<typeof changeOf>][] = [
      [{ type: 'ConversationStarted', data: { ...at, label: 'l', folder: '/f', importance_score: 3, metadata: { k: 1 } } }, { kind: 'started', label: 'l', folder: '/f', importance_score: 3, metadata: { k: 1 } }],
      [{ type: 'ConversationLabeled', data: { ...at, label: 'm' } }, { kind: 'attributesChanged', changes: { label: 'm' } }],
      [{ type: 'ConversationLabeled', data: { ...at, label: 'm', folder: '/g' } }, { kind: 'attributesChanged', changes: { label: 'm', folder: '/g' } }],
      [{ type: 'ConversationMovedToFolder', data: { ...at, folder: '/h' } }, { kind: 'attributesChanged', changes: { folder: '/h' } }],
      [{ type: 'ConversationPinned', data: at }, { kind: 'attributesChanged', changes: { pinned: true } }],
      [{ type: 'ConversationUnpinned', data: at }, { kind: 'attributesChanged', changes: { pinned: false } }],
      [{ type: 'ConversationArchived', data: at }, { kind: 'attributesChanged', changes: { status: 'archived' } }],
      [{ type: 'ConversationUnarchived', data: at }, { kind: 'attributesChanged', changes: { status: 'active' } }],
      [{ type: 'ImportanceSet', data: { ...at, importance_score: 8 } }, { kind: 'attributesChanged', changes: { importance_score: 8 } }],
      [{ type: 'ConversationDeleted', data: at }, { kind: 'deleted' }],
      [{ type: 'ConversationPurged', data: at }, { kind: 'purged' }],
    ];
    for (const [event, change] of cases) expect(changeOf(event), event.type).toEqual(change);
  });
});

describe('readLoggedEvent', () => {
  it('reads redacted or missing data with the fallbacks every projector uses', () => {
    const started = readLoggedEvent(logged('ConversationStarted', { label: 5, metadata: { redacted: { sha256: 'x' } } }));
    expect(started).toEqual({
      type: 'ConversationStarted',
      data: { conversation_id: A, at: '2024-12-31T00:00:00.000Z', label: '', folder: '/', importance_score: 5, metadata: { redacted: { sha256: 'x' } } },
    });
    const appended = readLoggedEvent(logged('MessagesAppended', { at: '2025-01-02T00:00:00.000Z', messages: [{ id: M, content: null }, 'junk', { id: 'not-a-uuid' }, { id: M, seq: 4, role: 'robot', content: [{ type: 'text', text: 't' }, 3] }] }));
    expect(appended?.type === 'MessagesAppended' && appended.data.messages).toEqual([
      { id: M, seq: 1, role: 'user', content: '', timestamp: '2025-01-02T00:00:00.000Z', metadata: {} },
      { id: M, seq: 4, role: 'user', content: [{ type: 'text', text: 't' }], timestamp: '2025-01-02T00:00:00.000Z', metadata: {} },
    ]);
    expect(loggedChange(logged('ImportanceSet', { importance_score: 'high' }))?.change).toEqual({ kind: 'attributesChanged', changes: { importance_score: 5 } });
  });

  it('carries a message name through the fold, and reads an empty or non-string one as none', () => {
    const appended = loggedChange(logged('MessagesAppended', { messages: [{ id: M, name: 'Caroline', content: 'hi' }, { id: M, name: 7, content: 'a' }, { id: M, name: '', content: 'b' }] }));
    const messages = appended?.change.kind === 'messagesAppended' ? appended.change.messages : [];
    expect(messages.map((m) => m.name)).toEqual(['Caroline', undefined, undefined]);
    expect(messages.map((m) => 'name' in m)).toEqual([true, false, false]);
  });

  it('answers undefined for a type this version does not know (projectors skip it)', () => {
    expect(readLoggedEvent(logged('SomethingNew', {}))).toBeUndefined();
    expect(readLoggedEvent(logged('toString', {}))).toBeUndefined();
  });
});
