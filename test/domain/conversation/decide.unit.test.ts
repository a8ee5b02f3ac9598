import { describe, expect, it } from 'vitest';
import {
  decide,
  foldConversation,
  type ConversationCommand,
  type ConversationEvent,
  type DomainError,
  type NewMessage,
} from '../../../src/domain/conversation/index.js';

const ID = '11111111-1111-4111-8111-111111111111';
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';

const started: ConversationEvent = {
  type: 'ConversationStarted',
  data: { conversation_id: ID, at: T0, label: 'work', folder: '/a', importance_score: 5, metadata: {} },
};
const pinned: ConversationEvent = { type: 'ConversationPinned', data: { conversation_id: ID, at: T0 } };
const archived: ConversationEvent = { type: 'ConversationArchived', data: { conversation_id: ID, at: T0 } };
const deleted: ConversationEvent = { type: 'ConversationDeleted', data: { conversation_id: ID, at: T0 } };

const message = (id: string, text: string): NewMessage => ({ id, role: 'user', content: text, timestamp: T1, metadata: {} });

/** Given these events, when this command: the decision. */
const given = (events: ConversationEvent[]) => ({
  when: (command: ConversationCommand) => decide(command, foldConversation(events)),
});
const then = (decision: ReturnType<typeof decide>) => ({
  events: (expected: ConversationEvent[]) => expect(decision._unsafeUnwrap()).toEqual(expected),
  error: (expected: DomainError) => expect(decision._unsafeUnwrapErr()).toBe(expected),
});

const base = { conversation_id: ID, at: T1 };
const start = (messages: NewMessage[] = []): ConversationCommand => ({
  type: 'StartConversation',
  at: T1,
  data: { conversation_id: ID, label: 'work', folder: '/a', importance_score: 5, metadata: { k: 1 }, messages },
});

describe('StartConversation', () => {
  it('starts an empty conversation without a MessagesAppended event', () => {
    then(given([]).when(start())).events([
      { type: 'ConversationStarted', data: { conversation_id: ID, at: T1, label: 'work', folder: '/a', importance_score: 5, metadata: { k: 1 } } },
    ]);
  });

  it('starts with messages numbered from 1', () => {
    const decision = given([]).when(start([message('m1', 'hi'), message('m2', 'there')]));
    const events = decision._unsafeUnwrap();
    expect(events.map((e) => e.type)).toEqual(['ConversationStarted', 'MessagesAppended']);
    expect(events[1]).toEqual({
      type: 'MessagesAppended',
      data: { ...base, messages: [{ ...message('m1', 'hi'), seq: 1 }, { ...message('m2', 'there'), seq: 2 }] },
    });
  });

  it('refuses to start a conversation that exists', () => then(given([started]).when(start())).error('CONVERSATION_EXISTS'));
  it('refuses to start a deleted conversation again', () => then(given([started, deleted]).when(start())).error('CONVERSATION_EXISTS'));
});

describe('AppendMessages', () => {
  const append = (...messages: NewMessage[]): ConversationCommand => ({ type: 'AppendMessages', at: T1, data: { messages } });
  const firstTwo: ConversationEvent = {
    type: 'MessagesAppended',
    data: { conversation_id: ID, at: T0, messages: [{ ...message('a', 'x'), seq: 1 }, { ...message('b', 'y'), seq: 2 }] },
  };

  it('numbers new messages after the existing ones', () => {
    then(given([started, firstTwo]).when(append(message('c', 'z')))).events([
      { type: 'MessagesAppended', data: { ...base, messages: [{ ...message('c', 'z'), seq: 3 }] } },
    ]);
  });
  it('appends to an archived conversation', () => {
    expect(given([started, archived]).when(append(message('c', 'z')))._unsafeUnwrap()).toHaveLength(1);
  });
  it('decides nothing for no messages', () => then(given([started]).when(append())).events([]));
  it('is not found on an empty stream', () => then(given([]).when(append(message('c', 'z')))).error('CONVERSATION_NOT_FOUND'));
  it('is gone after delete', () => then(given([started, deleted]).when(append(message('c', 'z')))).error('CONVERSATION_DELETED'));
});

describe('Relabel', () => {
  const relabel = (label: string, folder?: string): ConversationCommand => ({
    type: 'Relabel',
    at: T1,
    data: folder === undefined ? { label } : { label, folder },
  });
  it('relabels', () => then(given([started]).when(relabel('home'))).events([{ type: 'ConversationLabeled', data: { ...base, label: 'home' } }]));
  it('relabels and moves', () =>
    then(given([started]).when(relabel('work', '/b'))).events([{ type: 'ConversationLabeled', data: { ...base, label: 'work', folder: '/b' } }]));
  it('decides nothing for the same label', () => then(given([started]).when(relabel('work'))).events([]));
  it('decides nothing for the same label and folder', () => then(given([started]).when(relabel('work', '/a'))).events([]));
  it('is not found on an empty stream', () => then(given([]).when(relabel('x'))).error('CONVERSATION_NOT_FOUND'));
  it('is gone after delete', () => then(given([started, deleted]).when(relabel('x'))).error('CONVERSATION_DELETED'));
});

describe('MoveToFolder', () => {
  const move = (folder: string): ConversationCommand => ({ type: 'MoveToFolder', at: T1, data: { folder } });
  it('moves', () => then(given([started]).when(move('/b'))).events([{ type: 'ConversationMovedToFolder', data: { ...base, folder: '/b' } }]));
  it('decides nothing for the same folder', () => then(given([started]).when(move('/a'))).events([]));
  it('is not found on an empty stream', () => then(given([]).when(move('/b'))).error('CONVERSATION_NOT_FOUND'));
  it('is gone after delete', () => then(given([started, deleted]).when(move('/b'))).error('CONVERSATION_DELETED'));
});

describe('Pin / Unpin', () => {
  const pin: ConversationCommand = { type: 'Pin', at: T1, data: {} };
  const unpin: ConversationCommand = { type: 'Unpin', at: T1, data: {} };
  it('pins', () => then(given([started]).when(pin)).events([{ type: 'ConversationPinned', data: base }]));
  it('decides nothing when pinning twice', () => then(given([started, pinned]).when(pin)).events([]));
  it('unpins', () => then(given([started, pinned]).when(unpin)).events([{ type: 'ConversationUnpinned', data: base }]));
  it('decides nothing when unpinning an unpinned conversation', () => then(given([started]).when(unpin)).events([]));
  it('is not found on an empty stream', () => then(given([]).when(pin)).error('CONVERSATION_NOT_FOUND'));
  it('is gone after delete', () => {
    then(given([started, deleted]).when(pin)).error('CONVERSATION_DELETED');
    then(given([started, pinned, deleted]).when(unpin)).error('CONVERSATION_DELETED');
  });
});

describe('Archive / Unarchive', () => {
  const archive: ConversationCommand = { type: 'Archive', at: T1, data: {} };
  const unarchive: ConversationCommand = { type: 'Unarchive', at: T1, data: {} };
  it('archives', () => then(given([started]).when(archive)).events([{ type: 'ConversationArchived', data: base }]));
  it('decides nothing when archiving twice', () => then(given([started, archived]).when(archive)).events([]));
  it('unarchives', () => then(given([started, archived]).when(unarchive)).events([{ type: 'ConversationUnarchived', data: base }]));
  it('decides nothing when unarchiving an active conversation', () => then(given([started]).when(unarchive)).events([]));
  it('is not found on an empty stream', () => then(given([]).when(unarchive)).error('CONVERSATION_NOT_FOUND'));
  it('is gone after delete', () => then(given([started, archived, deleted]).when(unarchive)).error('CONVERSATION_DELETED'));
});

describe('SetImportance', () => {
  const importance = (importance_score: number): ConversationCommand => ({ type: 'SetImportance', at: T1, data: { importance_score } });
  it('sets it', () => then(given([started]).when(importance(9))).events([{ type: 'ImportanceSet', data: { ...base, importance_score: 9 } }]));
  it('decides nothing for the same score', () => then(given([started]).when(importance(5))).events([]));
  it('is not found on an empty stream', () => then(given([]).when(importance(9))).error('CONVERSATION_NOT_FOUND'));
  it('is gone after delete', () => then(given([started, deleted]).when(importance(9))).error('CONVERSATION_DELETED'));
});

describe('Delete', () => {
  const remove: ConversationCommand = { type: 'Delete', at: T1, data: {} };
  it('deletes', () => then(given([started]).when(remove)).events([{ type: 'ConversationDeleted', data: base }]));
  it('deletes an archived conversation', () => then(given([started, archived]).when(remove)).events([{ type: 'ConversationDeleted', data: base }]));
  it('is not found on an empty stream', () => then(given([]).when(remove)).error('CONVERSATION_NOT_FOUND'));
  it('is gone when deleted twice', () => then(given([started, deleted]).when(remove)).error('CONVERSATION_DELETED'));
});

describe('Purge', () => {
  const purge: ConversationCommand = { type: 'Purge', at: T1, data: {} };
  const purged: ConversationEvent = { type: 'ConversationPurged', data: { conversation_id: ID, at: T0 } };
  it('purges a live conversation', () => then(given([started]).when(purge)).events([{ type: 'ConversationPurged', data: base }]));
  it('purges a deleted conversation (forgetting stays possible after deleting)', () =>
    then(given([started, deleted]).when(purge)).events([{ type: 'ConversationPurged', data: base }]));
  it('is not found on an empty stream', () => then(given([]).when(purge)).error('CONVERSATION_NOT_FOUND'));
  it('leaves the conversation gone for every other command', () => {
    then(given([started, purged]).when({ type: 'Pin', at: T1, data: {} })).error('CONVERSATION_DELETED');
    then(given([started, purged]).when({ type: 'AppendMessages', at: T1, data: { messages: [message('x', 'y')] } })).error('CONVERSATION_DELETED');
  });
});

describe('decide is pure', () => {
  it('answers the same decision for the same command and state, and leaves the state alone', () => {
    const state = foldConversation([started, pinned]);
    const frozen = structuredClone(state);
    const command: ConversationCommand = { type: 'Relabel', at: T1, data: { label: 'x', folder: '/y' } };
    expect(decide(command, state)).toEqual(decide(command, state));
    expect(state).toEqual(frozen);
  });
});
