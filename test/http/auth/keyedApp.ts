import { platformExtras } from '../../../src/app/platform.js';
import { prepareReadModel } from '../../../src/projections/index.js';
import { createTestApp, type TestApp } from '../../support/testApp.js';

/** A key of each scope set: read; read and write; admin. */
export const READER = 'r'.repeat(40);
export const WRITER = 'w'.repeat(36);
export const ADMIN = `admin-${'a'.repeat(40)}`;

/**
 * A test app that knows the three keys (the admin one as given: its key, or only its digest), with
 * rate limits raised for tests that send many requests. No projector runs: the read model's tables are
 * prepared empty for the list routes.
 */
export async function createKeyedApp(admin: { key: string } | { key_sha256: string } = { key: ADMIN }): Promise<TestApp> {
  const t = await createTestApp({
    config: {
      api: {
        keys: [
          { name: 'reader', key: READER, scopes: ['read'] },
          { name: 'writer', key: WRITER, scopes: ['read', 'write'] },
          { name: 'ops', ...admin, scopes: ['admin'] },
        ],
        rate_limit_requests: 6000,
        rate_limit_burst: 200,
      },
    },
    extras: (deps) => platformExtras(deps),
  });
  await prepareReadModel(t.deps.pools);
  return t;
}
