import type { AppDeps } from '../http/deps.js';
import type { App } from '../http/openapi.js';
import { assembleContextRoute } from './assembleContext.js';
import { exportRoutes } from './exportConversation.js';
import { importRoute, IMPORT_PATH } from './importConversations.js';
import { mcpRoutes } from './mcpTools.js';
import { pruneRoutes } from './prune.js';
import { statsRoute } from './stats.js';
import { suggestLabelsRoute } from './suggestLabels.js';
import { listSummariesRoute, summarizeRoutes } from './summarize.js';

export { summariesDefinition } from './summariesProjector.js';

/** Paths that take a body other than JSON (the import takes Markdown text too). */
export const acceptsNonJson = (path: string) => path === IMPORT_PATH;

/** The memory features: export/import, prune, stats, summaries, context assembly, label suggestions, MCP tools. */
export const memoryRoutes = (deps: AppDeps) => (app: App) => {
  for (const route of [exportRoutes, importRoute, pruneRoutes, statsRoute, assembleContextRoute, summarizeRoutes, listSummariesRoute, suggestLabelsRoute, mcpRoutes]) route(deps)(app);
};
