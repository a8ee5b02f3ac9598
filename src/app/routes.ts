import { auditEventsRoute } from '../audit/auditEvents.js';
import { conversationEventsRoute } from '../audit/conversationEvents.js';
import { conversationHistoryRoute } from '../audit/conversationHistory.js';
import { eventStreamRoute } from '../audit/eventStream.js';
import { appendMessagesRoute } from '../commands/appendMessages.js';
import { archiveConversationRoute } from '../commands/archiveConversation.js';
import { createConversationRoute } from '../commands/createConversation.js';
import { deleteConversationRoute } from '../commands/deleteConversation.js';
import { importRoute, IMPORT_PATH } from '../commands/importConversations.js';
import { moveConversationRoute } from '../commands/moveConversation.js';
import { pinConversationRoute } from '../commands/pinConversation.js';
import { pruneRoutes } from '../commands/prune.js';
import { rebuildEmbeddingsRoutes } from '../commands/rebuildEmbeddings.js';
import { relabelConversationRoute } from '../commands/relabelConversation.js';
import { setImportanceRoute } from '../commands/setImportance.js';
import { summarizeRoutes } from '../commands/summarize.js';
import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { mcpHttpRoute } from '../mcp/http.js';
import { mcpRoutes } from '../mcp/tools.js';
import { projectionRoutes } from '../operations/projectionRoutes.js';
import { retentionPreviewRoute } from '../retention/preview.js';
import { assembleContextRoute } from '../queries/assembleContext.js';
import { countConversationsRoute } from '../queries/countConversations.js';
import { exportRoutes } from '../queries/exportConversation.js';
import { getConversationRoute } from '../queries/getConversation.js';
import { listConversationsRoute } from '../queries/listConversations.js';
import { listMessagesRoute } from '../queries/listMessages.js';
import { listSummariesRoute } from '../queries/listSummaries.js';
import { searchFtsRoute } from '../queries/searchFts.js';
import { searchMessagesRoute } from '../queries/searchMessages.js';
import { statsRoute } from '../queries/stats.js';
import { suggestLabelsRoute } from '../queries/suggestLabels.js';

/** A feature's route module: registers its routes on the app from the deps. */
export type FeatureRoutes = (deps: AppDeps) => (app: App) => void;

/**
 * Every API route, registered here and nowhere else, in the order the router tries them
 * (/conversations/count before /conversations/{id}).
 */
export const apiRoutes: readonly FeatureRoutes[] = [
  // Writes.
  createConversationRoute,
  appendMessagesRoute,
  relabelConversationRoute,
  moveConversationRoute,
  pinConversationRoute,
  archiveConversationRoute,
  setImportanceRoute,
  deleteConversationRoute,
  // The event log itself (audit).
  conversationEventsRoute,
  conversationHistoryRoute,
  auditEventsRoute,
  eventStreamRoute,
  // Reads of the read model and the vectors.
  countConversationsRoute,
  listConversationsRoute,
  getConversationRoute,
  listMessagesRoute,
  searchFtsRoute,
  searchMessagesRoute,
  // Operations.
  rebuildEmbeddingsRoutes,
  projectionRoutes,
  // Memory features: export/import, prune, stats, context assembly, summaries, label suggestions, MCP tools.
  exportRoutes,
  importRoute,
  pruneRoutes,
  statsRoute,
  assembleContextRoute,
  summarizeRoutes,
  listSummariesRoute,
  suggestLabelsRoute,
  retentionPreviewRoute,
  mcpRoutes,
  mcpHttpRoute,
];

/** Paths that take a body other than JSON (the import takes Markdown text too). */
export const acceptsNonJson = (path: string) => path === IMPORT_PATH;
