import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { coreServices, openConfiguredDatabase } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/schema.js';
import { EventHub } from '../../src/events.js';
import { createTestDatabase } from '../helpers/server.js';

/**
 * The core services on a real database, wired by src/app.ts's own functions but without
 * the HTTP server, the broker or the bus: the database of this pass (SQLite in a fresh
 * folder, or a fresh PostgreSQL database), the settings from `env` over the defaults, and
 * a logger whose lines are kept.
 */
export interface Store extends ReturnType<typeof coreServices> {
  config: Config;
  db: Db;
  events: EventHub;
  logger: pino.Logger;
  /** What was logged, one parsed line each. */
  logged: { level: number; msg: string; [key: string]: unknown }[];
  close(): Promise<void>;
}

export async function openStore(env: Record<string, string> = {}): Promise<Store> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-unit-'));
  const database = await createTestDatabase();
  const config = loadConfig({
    TETHYS_DATA_DIR: dataDir,
    TETHYS_DB_URL: database.url,
    TETHYS_DB_POOL_SIZE: '2',
    // Weaker hashing keeps these fast; the algorithm and code path are the same.
    TETHYS_ARGON2_MEMORY_KIB: '4096',
    TETHYS_ARGON2_ITERATIONS: '1',
    ...env,
  });
  const logged: Store['logged'] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const db = await openConfiguredDatabase(config, logger);
  const events = new EventHub();
  return {
    ...coreServices(config, db, logger, events),
    config,
    db,
    events,
    logger,
    logged,
    async close() {
      await db.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A registered user and its login token. */
export async function loggedIn(store: Store, email: string, password = 'secret-password') {
  const id = await store.users.register({ email, password });
  return { id, email, token: await store.users.login(email, password) };
}
