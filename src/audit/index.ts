import type { AppDeps } from '../http/deps.js';
import type { App } from '../http/openapi.js';
import { auditEventsRoute } from './auditEvents.js';
import { conversationEventsRoute } from './conversationEvents.js';
import { conversationHistoryRoute } from './conversationHistory.js';

/** The audit routes: a conversation's events, events across streams, history as of a point. */
export const auditRoutes = (deps: AppDeps) => (app: App) => {
  conversationEventsRoute(deps)(app);
  conversationHistoryRoute(deps)(app);
  auditEventsRoute(deps)(app);
};
