import type { ProjectionDefinition, SqlProjector } from '../types.js';
import { applyReadModel, READ_MODEL_EVENTS } from './handlers.js';
import { createTables, dropTables, pointViews, READ_MODEL } from './schema.js';

export { READ_MODEL, tablesOf } from './schema.js';
export { READ_MODEL_EVENTS } from './handlers.js';
export type { MessageRow } from './fold.js';

/** The read-model projector of one version: tables `rm_v<N>_conversations` and `rm_v<N>_messages`. */
export const readModelProjector = (version: number): SqlProjector => ({
  kind: 'sql',
  name: READ_MODEL,
  version,
  handles: READ_MODEL_EVENTS,
  setup: (client) => createTables(client, version),
  apply: (events, client) => applyReadModel(client, version, events),
});

/** The read model as a versioned projection: live behind the views `conversations` and `messages`. */
export const readModelDefinition: ProjectionDefinition = {
  name: READ_MODEL,
  create: readModelProjector,
  activate: pointViews,
  drop: dropTables,
};
