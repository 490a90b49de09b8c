import { sql } from 'kysely';
import { PLAN_EACH_TIME } from '../db/database.js';
import type { Db } from '../db/schema.js';
import { executor, onDuplicate } from '../db/transactions.js';
import { conflict } from '../errors.js';
import type { ChannelsRepository, ThingsRepository } from '../things/repo.js';
import type { BootstrapConfig, Certs, ConfigChannel, ConfigFilter } from './types.js';

interface ConfigRow {
  thing_id: string;
  owner: string;
  thing_key: string;
  external_id: string;
  external_key: string;
  name: string;
  content: string;
  client_cert: string;
  client_key: string;
  ca_cert: string;
  state: number | string;
}

const COLUMNS = sql.raw(
  'b.thing_id, b.owner, t.key AS thing_key, b.external_id, b.external_key, b.name, b.content, b.client_cert, b.client_key, b.ca_cert, b.state',
);

/**
 * Configs and their channel lists. A config's thing (its key) and channels (name,
 * metadata) are read in the same statement, joined as the things domain's row sources
 * (`ThingsRepository.source`, `ChannelsRepository.source`): a config is one query.
 */
export class BootstrapRepository {
  constructor(
    private db: Db,
    private things: Pick<ThingsRepository, 'source' | 'lockOwned'>,
    private channels: Pick<ChannelsRepository, 'source'>,
  ) {}

  private ex() {
    return executor(this.db);
  }

  private toConfig(row: ConfigRow, channels: ConfigChannel[]): BootstrapConfig {
    return {
      thingId: row.thing_id,
      owner: row.owner,
      thingKey: row.thing_key,
      externalId: row.external_id,
      externalKey: row.external_key,
      name: row.name,
      content: row.content,
      clientCert: row.client_cert,
      clientKey: row.client_key,
      caCert: row.ca_cert,
      state: Number(row.state),
      channels,
    };
  }

  /**
   * A config whose thing or external id is taken fails: conflict. On
   * PostgreSQL a taken external id leaves the row out (ON CONFLICT DO NOTHING) and the
   * statement then fails (`tethys_duplicate`, migration 0008): two plain inserts of one
   * external id into its exclusion constraint at once would deadlock instead.
   */
  async save(config: Omit<BootstrapConfig, 'channels' | 'thingKey'>, channelIds: string[]): Promise<void> {
    const insert = sql`INSERT INTO bootstrap_configs (thing_id, owner, external_id, external_key, name, content, client_cert, client_key, ca_cert, state)
      VALUES (${config.thingId}, ${config.owner}, ${config.externalId}, ${config.externalKey}, ${config.name}, ${config.content},
        ${config.clientCert}, ${config.clientKey}, ${config.caCert}, ${config.state})`;
    const write = async () => {
      await (this.db.dialect === 'postgres'
        ? sql`WITH inserted AS (${insert} ON CONFLICT ON CONSTRAINT bootstrap_configs_external_id_unique DO NOTHING RETURNING 1)
          SELECT tethys_duplicate('bootstrap config') WHERE NOT EXISTS (SELECT 1 FROM inserted)`
        : insert
      ).execute(this.ex());
      await this.insertChannels(config.thingId, channelIds);
    };
    await onDuplicate(write(), () => conflict('failed to add bootstrap configuration'));
  }

  private async setChannels(thingId: string, channelIds: string[]): Promise<void> {
    await sql`DELETE FROM bootstrap_channels WHERE thing_id = ${thingId}`.execute(this.ex());
    await this.insertChannels(thingId, channelIds);
  }

  private async insertChannels(thingId: string, channelIds: string[]): Promise<void> {
    if (channelIds.length === 0) return;
    const values = sql.join(channelIds.map((id, position) => sql`(${thingId}, ${id}, ${position})`));
    await sql`INSERT INTO bootstrap_channels (thing_id, channel_id, position) VALUES ${values}`.execute(
      this.ex(),
    );
  }

  /**
   * One config with its channels in one round trip: a row per channel (the config's
   * columns repeated; a config has a handful of channels), or one row with no channel.
   */
  private async one(where: ReturnType<typeof sql>): Promise<BootstrapConfig | null> {
    const rows = await sql<
      ConfigRow & { ch_id: string | null; ch_name: string | null; ch_metadata: unknown }
    >`
      SELECT ${COLUMNS}, c.id AS ch_id, c.name AS ch_name, c.metadata AS ch_metadata
      FROM bootstrap_configs b JOIN ${this.things.source()} t ON t.id = b.thing_id
      LEFT JOIN bootstrap_channels bc ON bc.thing_id = b.thing_id
      LEFT JOIN ${this.channels.source()} c ON c.id = bc.channel_id
      WHERE ${where} ORDER BY bc.position`.execute(this.ex());
    const first = rows.rows[0];
    if (!first) return null;
    const channels: ConfigChannel[] = [];
    for (const r of rows.rows) {
      if (r.ch_id !== null)
        channels.push({ id: r.ch_id, name: r.ch_name ?? '', metadata: this.db.parseJson(r.ch_metadata) });
    }
    return this.toConfig(first, channels);
  }

  /**
   * `lock` (in a transaction, PostgreSQL): the config's thing row is locked to commit
   * first (`ThingsRepository.lockOwned`, in the same transaction), and the config read
   * after, in a statement of its own so that it sees what a change that held the lock
   * before committed. Changes to one config's state and channels are so made one after
   * the other, each on what the one before left. The thing's row, not the config's:
   * deleting the thing locks it first and the config after, so locking the two in the
   * other order deadlocked. (SQLite makes every write transaction wait its turn anyway.)
   */
  async byId(owner: string, thingId: string, lock = false): Promise<BootstrapConfig | null> {
    if (lock) await this.things.lockOwned(owner, thingId);
    return this.one(sql`b.thing_id = ${thingId} AND b.owner = ${owner}`);
  }

  byExternalId(externalId: string): Promise<BootstrapConfig | null> {
    return this.one(sql`b.external_id = ${externalId}`);
  }

  async list(
    owner: string,
    filter: ConfigFilter,
    offset: number,
    limit: number,
  ): Promise<{ total: number; configs: BootstrapConfig[] }> {
    const where = [sql`b.owner = ${owner}`];
    if (filter.state !== undefined) where.push(sql`b.state = ${filter.state}`);
    if (filter.externalId) where.push(sql`b.external_id = ${filter.externalId}`);
    if (filter.thingId) where.push(sql`b.thing_id = ${filter.thingId}`);
    if (filter.thingKey) where.push(sql`t.key = ${filter.thingKey}`);
    if (filter.name)
      where.push(sql`${sql.raw(PLAN_EACH_TIME)} lower(b.name) LIKE ${`%${filter.name.toLowerCase()}%`}`);
    const cond = sql.join(where, sql` AND `);
    const from = sql`bootstrap_configs b JOIN ${this.things.source()} t ON t.id = b.thing_id`;
    const [rows, count] = await Promise.all([
      sql<ConfigRow>`SELECT ${COLUMNS} FROM ${from} WHERE ${cond}
        ORDER BY b.thing_id ASC LIMIT ${limit} OFFSET ${offset}`.execute(this.ex()),
      sql<{ n: number | string }>`SELECT count(*) AS n FROM ${from} WHERE ${cond}`.execute(this.ex()),
    ]);
    return { total: Number(count.rows[0]?.n ?? 0), configs: rows.rows.map((r) => this.toConfig(r, [])) };
  }

  async update(owner: string, thingId: string, name: string, content: string): Promise<boolean> {
    const r =
      await sql`UPDATE bootstrap_configs SET name = ${name}, content = ${content} WHERE thing_id = ${thingId} AND owner = ${owner}`.execute(
        this.ex(),
      );
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async updateCerts(owner: string, thingId: string, certs: Certs): Promise<boolean> {
    const r =
      await sql`UPDATE bootstrap_configs SET client_cert = ${certs.clientCert}, client_key = ${certs.clientKey}, ca_cert = ${certs.caCert}
      WHERE thing_id = ${thingId} AND owner = ${owner}`.execute(this.ex());
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /** A renewed certificate replaces the one a config carries; false when it carries none (or there is no config). */
  async replaceCarriedCerts(owner: string, thingId: string, certs: Certs): Promise<boolean> {
    const r =
      await sql`UPDATE bootstrap_configs SET client_cert = ${certs.clientCert}, client_key = ${certs.clientKey}, ca_cert = ${certs.caCert}
      WHERE thing_id = ${thingId} AND owner = ${owner} AND client_cert <> ''`.execute(this.ex());
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async replaceChannels(thingId: string, channelIds: string[]): Promise<void> {
    await this.setChannels(thingId, channelIds);
  }

  async setState(owner: string, thingId: string, state: number): Promise<void> {
    await sql`UPDATE bootstrap_configs SET state = ${state} WHERE thing_id = ${thingId} AND owner = ${owner}`.execute(
      this.ex(),
    );
  }

  /** The removed config's external id and name; null when there was none. */
  async remove(owner: string, thingId: string): Promise<{ externalId: string; name: string } | null> {
    const r = await sql<{ external_id: string; name: string }>`DELETE FROM bootstrap_configs
      WHERE thing_id = ${thingId} AND owner = ${owner} RETURNING external_id, name`.execute(this.ex());
    const row = r.rows[0];
    return row ? { externalId: row.external_id, name: row.name } : null;
  }

  /**
   * A thing disconnected from a channel its config lists: the config is no longer
   * active. Its owner when it was deactivated, else null.
   */
  async deactivateIfListed(thingId: string, channelId: string): Promise<string | null> {
    const r = await sql<{
      owner: string;
    }>`UPDATE bootstrap_configs SET state = 0 WHERE thing_id = ${thingId} AND state = 1
      AND EXISTS (SELECT 1 FROM bootstrap_channels WHERE thing_id = ${thingId} AND channel_id = ${channelId})
      RETURNING owner`.execute(this.ex());
    return r.rows[0]?.owner ?? null;
  }
}
