import type pg from 'pg';
import type { Logger } from 'pino';
import { conversationIdOf } from '../domain/conversation/index.js';
import type { Embedder } from '../embeddings/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { addProcessed, collectionOfVersion, nextModel, registerVersion, VECTORS } from '../vectors/collections.js';
import { conversationMetadata, vectorMetadata, type ConversationAttributes } from '../vectors/metadata.js';
import type { VectorStore } from '../vectors/store.js';
import type { ExternalProjector, ProjectionDefinition } from './types.js';
import { eventsForTexts, planVectorBatch, textsToEmbed, VECTOR_EVENTS } from './vectorPlan.js';

export interface VectorProjectionDeps {
  /** The primary pool (the projector's own attribute table, the collections table). */
  pool: pg.Pool;
  store: VectorStore;
  /** The embedder of a model (throws for a model this provider cannot serve). */
  embedderFor: (model: string) => Embedder;
  /** The model configured now: version 1, and any rebuild without an explicit model. */
  configuredModel: string;
  /** Texts per embedder call (embedding.batch_size). */
  embedBatchSize: number;
  /** Texts per applied batch, so per checkpoint move (chroma.batch_size: one Chroma write). */
  textsPerBatch: number;
  logger: Logger;
}

/** The projector's own table of conversation attributes, so it never waits on the read model. */
const attributesTable = (version: number) => `vec_v${version}_conversations`;

async function loadAttributes(pool: pg.Pool, version: number, ids: string[]): Promise<Map<string, ConversationAttributes>> {
  if (ids.length === 0) return new Map();
  const { rows } = await pool.query<ConversationAttributes & { id: string }>(
    `select id::text as id, label, folder, status, pinned, importance from ${attributesTable(version)} where id = any($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map(({ id, ...a }) => [id, a]));
}

async function saveAttributes(pool: pg.Pool, version: number, attributes: Map<string, ConversationAttributes | undefined>): Promise<void> {
  const live = [...attributes].filter((e): e is [string, ConversationAttributes] => e[1] !== undefined);
  const gone = [...attributes].filter(([, a]) => a === undefined).map(([id]) => id);
  if (live.length > 0) {
    await pool.query(
      `insert into ${attributesTable(version)} (id, label, folder, status, pinned, importance)
       select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::int[])
       on conflict (id) do update set label = excluded.label, folder = excluded.folder, status = excluded.status,
         pinned = excluded.pinned, importance = excluded.importance`,
      [live.map(([id]) => id), live.map(([, a]) => a.label), live.map(([, a]) => a.folder), live.map(([, a]) => a.status), live.map(([, a]) => a.pinned), live.map(([, a]) => a.importance)],
    );
  }
  if (gone.length > 0) await pool.query(`delete from ${attributesTable(version)} where id = any($1::uuid[])`, [gone]);
}

/** Learns an embedder's dimension from one call when it does not know it yet. */
async function dimensionOf(embedder: Embedder): Promise<number> {
  if (embedder.dimension > 0) return embedder.dimension;
  const [v] = await embedder.embed(['dimension probe']);
  return v!.length;
}

/** Vectors of `texts`, the embedder called in batches of `batchSize`. */
async function embedInBatches(embedder: Embedder, texts: readonly string[], batchSize: number): Promise<number[][]> {
  const vectors: number[][] = [];
  for (let i = 0; i < texts.length; i += batchSize) vectors.push(...(await embedder.embed(texts.slice(i, i + batchSize))));
  return vectors;
}

/** Vectors of texts embedded ahead of their batch, or undefined where that failed (the batch embeds again). */
type EmbeddedAhead = Promise<Map<string, number[]> | undefined>;

/** Which batch a prefetch was for: its first and last events. */
const batchKey = (events: readonly RecordedEvent[]) => `${events[0]?.eventId}/${events.at(-1)?.eventId}/${events.length}`;

/**
 * The vector projector of one version: embeds appended messages in batches and upserts them into
 * the version's Chroma collection (id = message id, so a retried batch changes nothing), keeps
 * conversation metadata on the vectors current, and removes a deleted conversation's vectors.
 * External: the runtime moves the checkpoint only after `apply` resolves; a throw is retried.
 */
export function vectorProjector(deps: VectorProjectionDeps, version: number): ExternalProjector {
  let target: { model: string; collection: string; embedder: Embedder } | undefined;
  // The next batches' texts, embedded while this one is written to Chroma (`prefetch`), by batch:
  // the runner hands over batch n + 1 just before it applies n, whose own was handed over earlier.
  const ahead = new Map<string, EmbeddedAhead>();
  const log = deps.logger.child({ projector: VECTORS, version });
  return {
    kind: 'external',
    name: VECTORS,
    version,
    handles: VECTOR_EVENTS,
    batchLimit: (events) => eventsForTexts(events, deps.textsPerBatch),
    async setup() {
      const existing = await collectionOfVersion(deps.pool, version);
      const model = existing?.model ?? (await nextModel(deps.pool, deps.configuredModel));
      const embedder = deps.embedderFor(model);
      const dimension = existing?.dimension ?? (await dimensionOf(embedder));
      const row = existing ?? (await registerVersion(deps.pool, { version, model, dimension, collection: deps.store.collectionName(model, dimension, version) }));
      await deps.pool.query(`create table if not exists ${attributesTable(version)} (
        id uuid primary key, label text not null, folder text not null, status text not null,
        pinned boolean not null, importance integer not null)`);
      await deps.store.ensure(row.collection, { model: row.model, dimension: row.dimension });
      target = { model: row.model, collection: row.collection, embedder };
      log.info({ model: row.model, collection: row.collection }, 'vector projector ready');
    },
    prefetch(events: RecordedEvent[]) {
      if (!target) return;
      const texts = [...new Set(textsToEmbed(events))];
      ahead.set(
        batchKey(events),
        embedInBatches(target.embedder, texts, deps.embedBatchSize).then(
          (vectors) => new Map(texts.map((text, i) => [text, vectors[i]!])),
          () => undefined,
        ),
      );
      // Two at most (this batch's and the next): one a retried or fenced batch never took is dropped.
      for (const stale of [...ahead.keys()].slice(0, -2)) ahead.delete(stale);
    },
    async apply(events: RecordedEvent[]) {
      if (!target) throw new Error('vector projector used before setup');
      const { model, collection, embedder } = target;
      const touched = [...new Set(events.map(conversationIdOf))];
      const known = await loadAttributes(deps.pool, version, touched);
      const plan = planVectorBatch(events, known);
      const attributesOf = (id: string) => (plan.attributes.has(id) ? plan.attributes.get(id) : known.get(id));

      // The embedder is called in its own batches (embedding.batch_size); Chroma gets the whole batch
      // in writes of chroma.batch_size: each Chroma write costs a round trip, a log transaction and an
      // index update, so writes as small as an embedder call capped the rate of a rebuild.
      const key = batchKey(events);
      const prefetched = (await ahead.get(key)) ?? new Map<string, number[]>();
      ahead.delete(key);
      const missing = plan.upserts.map((m) => m.text).filter((text) => !prefetched.has(text));
      const embedded = await embedInBatches(embedder, missing, deps.embedBatchSize);
      missing.forEach((text, i) => prefetched.set(text, embedded[i]!));
      const vectors = plan.upserts.map((m) => prefetched.get(m.text)!);
      if (plan.upserts.length > 0) {
        await deps.store.upsert(
          collection,
          plan.upserts.map((m, j) => ({ id: m.id, vector: vectors[j]!, metadata: vectorMetadata(m, attributesOf(m.conversation_id)!) })),
        );
      }
      for (const id of plan.updated) {
        const a = attributesOf(id);
        if (a) await deps.store.updateConversation(collection, id, conversationMetadata(a));
      }
      for (const id of plan.deleted) await deps.store.deleteConversation(collection, id);
      // Only after Chroma has the batch: the attributes a retry would start from, then progress.
      await saveAttributes(deps.pool, version, plan.attributes);
      if (plan.upserts.length > 0) await addProcessed(deps.pool, version, plan.upserts.length);
    },
  };
}

/** The vector projection: one Chroma collection per version, switched to when a rebuild catches up. */
export function vectorsDefinition(deps: VectorProjectionDeps): ProjectionDefinition {
  return {
    name: VECTORS,
    create: (version) => vectorProjector(deps, version),
    async activate(client, version) {
      await client.query('update vector_collections set activated_at = now() where version = $1', [version]);
    },
    async drop(client, version) {
      const { rows } = await client.query<{ collection: string }>('select collection from vector_collections where version = $1', [version]);
      if (rows[0]) await deps.store.drop(rows[0].collection);
      await client.query(`drop table if exists ${attributesTable(version)}`);
      await client.query('update vector_collections set dropped_at = now() where version = $1', [version]);
    },
  };
}
