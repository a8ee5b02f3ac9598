import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { changeRoute } from './changeRoute.js';

export const archiveConversationRoute = (deps: AppDeps) => (app: App) => {
  changeRoute({ path: '/api/v1/conversations/{id}/archive', summary: 'Archive the conversation', toCommand: (_, at) => ({ type: 'Archive', at, data: {} }) })(deps)(app);
  changeRoute({ path: '/api/v1/conversations/{id}/unarchive', summary: 'Unarchive the conversation', toCommand: (_, at) => ({ type: 'Unarchive', at, data: {} }) })(deps)(app);
};
