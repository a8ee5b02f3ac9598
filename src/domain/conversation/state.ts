import type { ConversationEvent } from './events.js';
import { textOf, wordCount } from './text.js';

/** What a conversation is, apart from its messages' content. */
export interface ConversationDetails {
  id: string;
  label: string;
  folder: string;
  pinned: boolean;
  importance_score: number;
  message_count: number;
  word_count: number;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

/** A conversation's state, keyed on status so that impossible states cannot be written down. */
export type ConversationState =
  | { status: 'empty' }
  | ({ status: 'active' | 'archived' | 'deleted' } & ConversationDetails);

export const initialState = (): ConversationState => ({ status: 'empty' });

/** Folds one event into the state; pure, total over the event union. */
export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  const { data } = event;
  if (event.type === 'ConversationStarted') {
    return {
      status: 'active',
      id: event.data.conversation_id,
      label: event.data.label,
      folder: event.data.folder,
      pinned: false,
      importance_score: event.data.importance_score,
      message_count: 0,
      word_count: 0,
      metadata: event.data.metadata,
      created_at: data.at,
      updated_at: data.at,
      last_message_at: null,
    };
  }
  if (state.status === 'empty') return state;
  const touched = { ...state, updated_at: data.at };
  switch (event.type) {
    case 'MessagesAppended': {
      const words = event.data.messages.reduce((n, m) => n + wordCount(textOf(m.content)), 0);
      const last = event.data.messages.at(-1);
      return {
        ...touched,
        message_count: state.message_count + event.data.messages.length,
        word_count: state.word_count + words,
        last_message_at: last ? last.timestamp : state.last_message_at,
      };
    }
    case 'ConversationLabeled':
      return { ...touched, label: event.data.label, folder: event.data.folder ?? state.folder };
    case 'ConversationMovedToFolder':
      return { ...touched, folder: event.data.folder };
    case 'ConversationPinned':
      return { ...touched, pinned: true };
    case 'ConversationUnpinned':
      return { ...touched, pinned: false };
    case 'ConversationArchived':
      return { ...touched, status: 'archived' };
    case 'ConversationUnarchived':
      return { ...touched, status: 'active' };
    case 'ImportanceSet':
      return { ...touched, importance_score: event.data.importance_score };
    case 'ConversationDeleted':
    case 'ConversationPurged':
      return { ...touched, status: 'deleted' };
    case 'SummaryGenerated':
      // A summary describes the conversation; it does not change it.
      return state;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** Folds a whole history. */
export const foldConversation = (events: readonly ConversationEvent[], from: ConversationState = initialState()): ConversationState =>
  events.reduce(evolve, from);
