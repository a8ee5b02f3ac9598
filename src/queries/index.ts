import type { AppDeps } from '../http/deps.js';
import type { App } from '../http/openapi.js';
import { countConversationsRoute } from './countConversations.js';
import { getConversationRoute } from './getConversation.js';
import { listConversationsRoute } from './listConversations.js';
import { listMessagesRoute } from './listMessages.js';
import { searchFtsRoute } from './searchFts.js';
import { rebuildEmbeddingsRoutes } from './rebuildEmbeddings.js';
import { searchMessagesRoute } from './searchMessages.js';

export { readYourWrites, waitForPosition, consistencyParams, requestedPosition } from './readYourWrites.js';

/** The read-model query routes; /conversations/count before /conversations/{id}. */
export const queryRoutes = (deps: AppDeps) => (app: App) => {
  for (const route of [countConversationsRoute, listConversationsRoute, getConversationRoute, listMessagesRoute, searchFtsRoute, searchMessagesRoute, rebuildEmbeddingsRoutes]) route(deps)(app);
};
