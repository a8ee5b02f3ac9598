import type { ConversationEvent } from './events.js';
import { changeOf } from './fold.js';
import { wordsOf } from './text.js';

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

/** Folds one event into the state; pure, total over the change kinds of the domain's fold. */
export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  const change = changeOf(event);
  const at = event.data.at;
  if (change.kind === 'started') {
    return {
      status: 'active',
      id: event.data.conversation_id,
      label: change.label,
      folder: change.folder,
      pinned: false,
      importance_score: change.importance_score,
      message_count: 0,
      word_count: 0,
      metadata: change.metadata,
      created_at: at,
      updated_at: at,
      last_message_at: null,
    };
  }
  if (state.status === 'empty') return state;
  switch (change.kind) {
    case 'messagesAppended': {
      const words = wordsOf(change.messages);
      const last = change.messages.at(-1);
      return {
        ...state,
        updated_at: at,
        message_count: state.message_count + change.messages.length,
        word_count: state.word_count + words,
        last_message_at: last ? last.timestamp : state.last_message_at,
      };
    }
    case 'attributesChanged':
      return { ...state, ...change.changes, updated_at: at };
    case 'deleted':
    case 'purged':
      return { ...state, status: 'deleted', updated_at: at };
    case 'summarized':
      return state;
    default: {
      const unknown: never = change;
      return unknown;
    }
  }
}

/** Folds a whole history. */
export const foldConversation = (events: readonly ConversationEvent[], from: ConversationState = initialState()): ConversationState =>
  events.reduce(evolve, from);
