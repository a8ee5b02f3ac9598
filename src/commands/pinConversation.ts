import type { AppDeps } from '../deps.js';
import type { App } from '../http/openapi.js';
import { changeRoute } from './changeRoute.js';

export const pinConversationRoute = (deps: AppDeps) => (app: App) => {
  changeRoute({ path: '/api/v1/conversations/{id}/pin', summary: 'Pin the conversation', toCommand: (_, at) => ({ type: 'Pin', at, data: {} }) })(deps)(app);
  changeRoute({ path: '/api/v1/conversations/{id}/unpin', summary: 'Unpin the conversation', toCommand: (_, at) => ({ type: 'Unpin', at, data: {} }) })(deps)(app);
};
