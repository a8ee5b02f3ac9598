import { z } from 'zod';

/** Scopes an API key may carry. */
export const scopeSchema = z.enum(['read', 'write', 'admin']);
export type Scope = z.infer<typeof scopeSchema>;

// Each message says what is allowed; the loader prefixes the key and the value.
const port = z.coerce
  .number({ error: 'allowed: an integer port from 0 to 65535' })
  .int({ error: 'allowed: an integer port from 0 to 65535' })
  .min(0, { error: 'allowed: an integer port from 0 to 65535' })
  .max(65535, { error: 'allowed: an integer port from 0 to 65535' });
const positiveInt = z.coerce
  .number({ error: 'allowed: a whole number greater than 0' })
  .int({ error: 'allowed: a whole number greater than 0' })
  .positive({ error: 'allowed: a whole number greater than 0' });
const nonNegativeInt = z.coerce
  .number({ error: 'allowed: a whole number, 0 or more' })
  .int({ error: 'allowed: a whole number, 0 or more' })
  .nonnegative({ error: 'allowed: a whole number, 0 or more' });
const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  return v;
}, z.boolean({ error: 'allowed: true or false' }));
const optionalUrl = z.url({ error: 'allowed: a URL such as scheme://host:port/path' }).optional();
const stringList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string(), { error: 'allowed: a list of strings (or one comma-separated string)' }),
);

export const apiKeySchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'allowed: 1 to 64 letters, digits, ".", "_", "@" or "-"'),
    key: z.string().min(32, 'allowed: a key of at least 32 characters').optional(),
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'allowed: 64 lowercase hex characters (sha256 of the key)')
      .optional(),
    scopes: z.array(scopeSchema).min(1).default(['read', 'write']),
  })
  .refine((k) => k.key !== undefined || k.key_sha256 !== undefined, {
    message: 'allowed: an entry with key (32+ characters) or key_sha256',
  });
export type ApiKeyConfig = z.infer<typeof apiKeySchema>;

/** One `[[retention.rules]]` entry: which conversations, after how long without activity, what happens. */
export const retentionRuleSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'allowed: 1 to 64 letters, digits, ".", "_" or "-"'),
    /** Folder prefix: "/work" matches "/work" and "/work/…"; "/" matches every folder. */
    folder: z.string().min(1).startsWith('/', 'allowed: a folder path starting with "/"').optional(),
    label: z.string().min(1).optional(),
    after_days: z.coerce.number({ error: 'allowed: a number of days, 0 or more' }).min(0, 'allowed: a number of days, 0 or more'),
    action: z.enum(['archive', 'delete', 'purge']),
    /** Pinned conversations are kept unless this is true. */
    include_pinned: bool.default(false),
    /** Conversations with importance ≥ retention.keep_importance_at_least are kept unless this is true. */
    include_important: bool.default(false),
  })
  .refine((r) => r.folder !== undefined || r.label !== undefined, { message: 'allowed: a rule with folder, label or both' });
export type RetentionRule = z.infer<typeof retentionRuleSchema>;

/** The whole configuration, with every default of CONFIG.md. */
export const configSchema = z.strictObject({
  data_dir: z.string().default('./data'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
      role: z.enum(['all', 'api', 'projector']).default('all'),
      shutdown_grace_ms: nonNegativeInt.default(10_000),
      trusted_proxies: z
        .preprocess(
          (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
          z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'allowed: IP addresses or CIDR ranges such as 10.0.0.0/8' })),
        )
        .default([]),
      // Host names served besides loopback ones (DNS-rebinding guard); with API keys, when set, only these.
      allowed_hosts: z
        .preprocess(
          (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
          z.array(z.string().regex(/^[A-Za-z0-9.:[\]_-]+$/, 'allowed: host names such as memory.example.com (no scheme, no port)')),
        )
        .default([]),
    })
    .prefault({}),
  database: z
    .strictObject({
      url: optionalUrl,
      read_url: optionalUrl,
      max_connections: positiveInt.default(20),
      min_connections: nonNegativeInt.default(5),
      connect_timeout: positiveInt.default(10),
      idle_timeout: positiveInt.default(600),
      max_lifetime: positiveInt.default(1800),
      statement_timeout_ms: nonNegativeInt.default(30_000),
      /**
       * Most appends one commit carries: appends to different streams that arrive while another is in
       * flight share the next statement and its WAL flush. 1 commits every append on its own.
       */
      append_batch_max: positiveInt.default(64),
      /** Append statements in flight at once; appends beyond them queue and share the next commit (see DEFAULT_APPEND_CONCURRENCY). */
      append_batch_concurrency: positiveInt.default(3),
      embedded_port: port.default(0),
      /**
       * The embedded PostgreSQL's shared_buffers in MB; 0: PostgreSQL's 128 MB. At a million messages
       * 2 GB made full-text search no faster and the top-k walk slower (its pages are in the OS cache).
       */
      embedded_shared_buffers_mb: nonNegativeInt.default(0),
    })
    .prefault({}),
  api: z
    .strictObject({
      rate_limit_requests: positiveInt.default(100),
      rate_limit_burst: nonNegativeInt.default(10),
      rate_limit_routes: z.record(z.string(), z.strictObject({ requests: positiveInt, burst: nonNegativeInt.default(0) })).default({}),
      compress_responses: bool.default(true),
      compress_min_bytes: nonNegativeInt.default(1024),
      max_body_bytes: positiveInt.default(10 * 1024 * 1024),
      cors_origins: stringList.default([]),
      keys: z
        .array(apiKeySchema)
        .refine((keys) => new Set(keys.map((k) => k.name)).size === keys.length, { error: 'allowed: each key name once' })
        .default([]),
      max_messages_per_request: positiveInt.default(1000),
      max_content_chars: positiveInt.default(100_000),
      max_label_chars: positiveInt.default(200),
      max_folder_chars: positiveInt.default(500),
      max_page_size: positiveInt.default(100),
      max_metadata_depth: positiveInt.default(16),
      read_wait_default_ms: nonNegativeInt.default(2000),
      read_wait_max_ms: nonNegativeInt.default(10_000),
      read_your_writes: bool.default(true),
      read_your_writes_ttl_ms: positiveInt.default(60_000),
    })
    .prefault({}),
  embedding: z
    .strictObject({
      provider: z.enum(['local', 'ollama']).optional(),
      model: z.string().min(1).default('nomic-embed-text'),
      batch_size: positiveInt.default(100),
      ollama_url: optionalUrl,
      cache: bool.default(true),
      workers: positiveInt.default(1),
    })
    .prefault({}),
  chroma: z
    .strictObject({
      url: optionalUrl,
      collection_prefix: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only').default('sekha_messages'),
      space: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
      construction_ef: positiveInt.default(200),
      search_ef: positiveInt.default(100),
      m: positiveInt.default(16),
      /** Records per Chroma write, and texts per vector-projector batch while catching up or rebuilding. */
      batch_size: positiveInt.min(1000, 'at least 1000: smaller writes cap the rate of a rebuild').default(2000),
      /**
       * HNSW index settings (Chroma collection configuration; changed ones are applied to existing
       * collections and take effect when Chroma next loads them). sync_threshold: writes between saves
       * of the index to disk; each save rewrites the id map and syncs the index files, whose cost
       * grows with the collection, so Chroma's 1,000 makes large collections spend their write time
       * saving; unsaved writes are replayed from Chroma's log when it starts. hnsw_batch_size and
       * num_threads: Chroma's defaults (100; all cores) when unset. Measured on a copy of the bench's
       * 1,007,723 vectors (bench/chromaScale.ts --collection, 2 cores): batch upserts of 2,000 ran at
       * 634–776 records/s whatever batch_size (100, 1,000, 5,000) or num_threads (1, 2), so both stay unset.
       */
      sync_threshold: positiveInt.default(10_000),
      hnsw_batch_size: positiveInt.optional(),
      num_threads: positiveInt.optional(),
      embedded_port: port.default(0),
    })
    .prefault({}),
  search: z
    .strictObject({
      /**
       * BM25 term-frequency saturation (k1) and length normalisation (b). Chat turns are short, and a
       * term said twice in one is barely stronger evidence than once: on LoCoMo (a grid measured with eval:retrieval)
       * k1 0.4–0.9 with b 0.1–0.3 beat the textbook 1.2 / 0.75 by 3–4 points of recall@5
       * on both halves of the samples. Raise b when messages vary a lot in length.
       * The lexical postings are ordered under these: a change rebuilds them at the next start, blue/green
       * (searches stay exact meanwhile, only slower; ~2 minutes at a million messages).
       */
      bm25_k1: z.coerce.number().min(0).max(10).default(0.9),
      bm25_b: z.coerce.number().min(0).max(1).default(0.3),
      /**
       * How hybrid search fuses its two lists: `convex` adds the weighted scores, each normalised to
       * [0, 1] over its list (BM25 by its best, cosine min–max); `rrf` adds weight / (k + rank). On
       * LoCoMo dev (eval:retrieval), with neighbour smoothing, convex beats RRF by 2–3 points of
       * recall@5 on both halves; without smoothing they are even.
       */
      fusion: z.enum(['convex', 'rrf']).default('convex'),
      /**
       * Neighbour smoothing of fts and hybrid rankings: a message gains this share of the best score among
       * the messages next to it in its conversation (seq ± 1) that are candidates too. Evidence clusters in
       * dialogue (a question and its answer); 0 turns it off. LoCoMo dev: +2 (fts) and +4–6 (hybrid)
       * points of recall@5 on both halves.
       */
      neighbour_weight: z.coerce.number().min(0).max(2).default(0.5),
      /**
       * `POST /api/v1/search/fts` counts matches for its total up to this many (or to the page's end),
       * then answers total_relation "gte": an exact count of a common word reads every match, tens of
       * thousands at a million messages. A request's exact_total asks for the whole count.
       */
      fts_total_limit: positiveInt.default(1000),
      /** Reciprocal rank fusion constant of hybrid search; unset: the model's built-in one (60 for unknown models). */
      rrf_k: positiveInt.optional(),
      /** Hybrid weights per embedding model, e.g. { "nomic-embed-text" = { semantic = 1, lexical = 1, k = 60 } }; built-in ones otherwise. */
      hybrid_weights: z
        .record(z.string(), z.strictObject({ semantic: z.coerce.number().min(0), lexical: z.coerce.number().min(0), k: positiveInt.optional() }))
        .default({}),
    })
    .prefault({}),
  projections: z
    .strictObject({
      batch_size: positiveInt.default(500),
      poll_interval_ms: positiveInt.default(1000),
      /** After an append commits, how long its NOTIFY waits to cover more commits (one per window, one in flight). */
      notify_window_ms: nonNegativeInt.default(2),
      lease: bool.default(true),
      lease_check_ms: positiveInt.default(2000),
    })
    .prefault({}),
  stream: z
    .strictObject({
      /** A comment line this often keeps proxies from closing an idle event stream. */
      heartbeat_ms: positiveInt.default(15_000),
      /** Bytes queued for one client before its writes wait (the socket buffers more). */
      buffer_bytes: positiveInt.default(256 * 1024),
      /** A client whose queue stays full this long is dropped with a final event saying where to resume. */
      slow_client_ms: positiveInt.default(10_000),
      /** Events read from the log per step. */
      batch_size: positiveInt.default(200),
    })
    .prefault({}),
  context: z
    .strictObject({
      default_budget: positiveInt.default(8000),
      recency_half_life_days: z.coerce.number().positive().default(7),
      weight_similarity: z.coerce.number().min(0).default(1),
      weight_importance: z.coerce.number().min(0).default(0.3),
      weight_recency: z.coerce.number().min(0).default(0.3),
      weight_label: z.coerce.number().min(0).default(0.2),
    })
    .prefault({}),
  summaries: z
    .strictObject({
      model: z.string().min(1).default('llama3.1:8b'),
      enabled: bool.default(true),
    })
    .prefault({}),
  redis: z.strictObject({ url: optionalUrl }).prefault({}),
  retention: z
    .strictObject({
      /** Run the rules on a schedule (in processes that run projectors; one instance acts, under a lease). */
      enabled: bool.default(true),
      interval_ms: positiveInt.default(3_600_000),
      /** Conversations at least this important are kept unless a rule says include_important. */
      keep_importance_at_least: z.coerce.number().int().min(1).max(11).default(8),
      /** At most this many conversations are acted on per run (the rest wait for the next). */
      max_per_run: positiveInt.default(1000),
      rules: z
        .array(retentionRuleSchema)
        .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, { error: 'allowed: each rule name once' })
        .default([]),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
