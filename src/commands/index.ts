import type { AppDeps } from '../http/deps.js';
import type { App } from '../http/openapi.js';
import { appendMessagesRoute } from './appendMessages.js';
import { archiveConversationRoute } from './archiveConversation.js';
import { createConversationRoute } from './createConversation.js';
import { deleteConversationRoute } from './deleteConversation.js';
import { moveConversationRoute } from './moveConversation.js';
import { pinConversationRoute } from './pinConversation.js';
import { relabelConversationRoute } from './relabelConversation.js';
import { setImportanceRoute } from './setImportance.js';

/** Every write route of the conversation commands. */
export const commandRoutes = (deps: AppDeps) => (app: App) => {
  for (const route of [
    createConversationRoute,
    appendMessagesRoute,
    relabelConversationRoute,
    moveConversationRoute,
    pinConversationRoute,
    archiveConversationRoute,
    setImportanceRoute,
    deleteConversationRoute,
  ]) {
    route(deps)(app);
  }
};
