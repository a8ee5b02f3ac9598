import { err, ok, type Result } from 'neverthrow';
import type { ConversationEvent, MessageContent, Role, SummaryGenerated } from './events.js';
import type { ConversationState } from './state.js';

/** A message as a command brings it: the id and time are decided by the caller, the order here. */
export interface NewMessage {
  id: string;
  role: Role;
  name?: string;
  content: MessageContent;
  timestamp: string;
  metadata: Record<string, unknown>;
}

type Cmd<T extends string, D = Record<string, never>> = { type: T; data: D; at: string };

/** Everything a client can ask of a conversation. Time comes in with the command; the decider reads no clock. */
export type ConversationCommand =
  | Cmd<'StartConversation', { conversation_id: string; label: string; folder: string; importance_score: number; metadata: Record<string, unknown>; messages: NewMessage[] }>
  | Cmd<'AppendMessages', { messages: NewMessage[] }>
  | Cmd<'Relabel', { label: string; folder?: string }>
  | Cmd<'MoveToFolder', { folder: string }>
  | Cmd<'Pin'>
  | Cmd<'Unpin'>
  | Cmd<'Archive'>
  | Cmd<'Unarchive'>
  | Cmd<'SetImportance', { importance_score: number }>
  | Cmd<'Delete'>
  | Cmd<'Purge'>
  | Cmd<'RecordSummary', Omit<SummaryGenerated['data'], 'conversation_id' | 'at'>>;

export type DomainError = 'CONVERSATION_NOT_FOUND' | 'CONVERSATION_EXISTS' | 'CONVERSATION_DELETED';

type Decision = Result<ConversationEvent[], DomainError>;
type Live = Exclude<ConversationState, { status: 'empty' }>;

const appended = (state: { message_count: number }, conversationId: string, messages: NewMessage[], at: string): ConversationEvent[] =>
  messages.length === 0
    ? []
    : [
        {
          type: 'MessagesAppended',
          data: {
            conversation_id: conversationId,
            at,
            messages: messages.map((m, i) => ({ ...m, seq: state.message_count + i + 1 })),
          },
        },
      ];

function decideOnLive(command: Exclude<ConversationCommand, { type: 'StartConversation' | 'Purge' }>, state: Live): Decision {
  const base = { conversation_id: state.id, at: command.at };
  switch (command.type) {
    case 'AppendMessages':
      return ok(appended(state, state.id, command.data.messages, command.at));
    case 'Relabel': {
      const folder = command.data.folder;
      if (state.label === command.data.label && (folder === undefined || folder === state.folder)) return ok([]);
      return ok([{ type: 'ConversationLabeled', data: { ...base, label: command.data.label, ...(folder !== undefined ? { folder } : {}) } }]);
    }
    case 'MoveToFolder':
      return ok(state.folder === command.data.folder ? [] : [{ type: 'ConversationMovedToFolder', data: { ...base, folder: command.data.folder } }]);
    case 'Pin':
      return ok(state.pinned ? [] : [{ type: 'ConversationPinned', data: base }]);
    case 'Unpin':
      return ok(state.pinned ? [{ type: 'ConversationUnpinned', data: base }] : []);
    case 'Archive':
      return ok(state.status === 'archived' ? [] : [{ type: 'ConversationArchived', data: base }]);
    case 'Unarchive':
      return ok(state.status === 'archived' ? [{ type: 'ConversationUnarchived', data: base }] : []);
    case 'SetImportance':
      return ok(
        state.importance_score === command.data.importance_score
          ? []
          : [{ type: 'ImportanceSet', data: { ...base, importance_score: command.data.importance_score } }],
      );
    case 'Delete':
      return ok([{ type: 'ConversationDeleted', data: base }]);
    case 'RecordSummary':
      return ok([{ type: 'SummaryGenerated', data: { ...base, ...command.data } }]);
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
}

/**
 * Decides which events a command causes, or why it cannot happen. Pure: no I/O, no clock, no ids.
 * A command that changes nothing (pinning a pinned conversation) decides no events.
 */
export function decide(command: ConversationCommand, state: ConversationState): Decision {
  if (command.type === 'StartConversation') {
    if (state.status !== 'empty') return err('CONVERSATION_EXISTS');
    const { messages, ...started } = command.data;
    return ok([
      { type: 'ConversationStarted', data: { ...started, at: command.at } },
      ...appended({ message_count: 0 }, started.conversation_id, messages, command.at),
    ]);
  }
  if (state.status === 'empty') return err('CONVERSATION_NOT_FOUND');
  // A purge also applies to a deleted conversation: forgetting must stay possible after deleting.
  if (command.type === 'Purge') {
    return ok([{ type: 'ConversationPurged', data: { conversation_id: state.id, at: command.at } }]);
  }
  if (state.status === 'deleted') return err('CONVERSATION_DELETED');
  return decideOnLive(command, state);
}
