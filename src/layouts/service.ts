import type { AuditLog } from '../audit/service.js';
import type { AuthService } from '../auth/service.js';
import { type Identity, KeyType } from '../auth/types.js';
import type { Config } from '../config.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { conflict, forbidden, invalidQuery, malformed, notFound, unauthenticated } from '../errors.js';
import { type Layout, LayoutError, type LayoutParameter, readLayout } from '../provision/layout.js';
import type { LayoutSource } from '../provision/service.js';
import { byteLength } from '../things/types.js';
import type { LayoutsRepository } from './repo.js';
import {
  DEFAULT_LAYOUT,
  LAYOUT_NAME,
  type LayoutsPage,
  MAX_LIMIT,
  MAX_TOML,
  type NamedLayout,
  type StoredLayout,
} from './types.js';

const READ_ONLY = `layout ${DEFAULT_LAYOUT} is the server's (MF_PROVISION_CONFIG_FILE) and read-only`;

/**
 * Named provision layouts (issue 19): each user's own, read by the same reader as the
 * server's file (`readLayout`), so a layout that is stored is one /mapping can use. The
 * server's layout is `default`: every user sees it, nobody changes it here.
 */
export class LayoutsService implements LayoutSource {
  constructor(
    private db: Db,
    private auth: AuthService,
    private repo: LayoutsRepository,
    private defaultLayout: Layout,
    private config: Config['provision'],
    private audit: AuditLog,
  ) {}

  /** A layout's event: its entity is its name (per owner); details name its parameters, never their text. */
  private record(
    identity: Identity,
    action: 'layout.create' | 'layout.update' | 'layout.remove',
    name: string,
    parameters?: LayoutParameter[],
  ): void {
    this.audit.record(identity, {
      action,
      entityId: name,
      owner: identity.email,
      details: parameters ? { name, parameters: parameters.map((p) => p.name) } : { name },
    });
  }

  /** A login token or an API key (a recovery key is for resetting a password only). */
  private async identify(header: string | undefined): Promise<Identity> {
    const identity = await this.auth.identify(header);
    if (identity.type === KeyType.recovery) throw unauthenticated();
    return identity;
  }

  /** The layout's text read as /mapping will read it; a problem is malformed, naming its line. */
  private read(name: string, toml: string): Layout {
    if (byteLength(toml) > MAX_TOML)
      throw malformed(`layout ${name}: the TOML is longer than ${MAX_TOML} bytes`);
    try {
      return readLayout(toml, this.config, { label: `layout ${name}`, named: true });
    } catch (err) {
      if (err instanceof LayoutError) throw malformed(err.message);
      throw err;
    }
  }

  private defaultView(): NamedLayout {
    return { name: DEFAULT_LAYOUT, toml: this.defaultLayout.toml, parameters: this.defaultLayout.parameters };
  }

  async create(header: string | undefined, name: string, toml: string): Promise<NamedLayout> {
    const identity = await this.identify(header);
    if (name === DEFAULT_LAYOUT) throw conflict(READ_ONLY);
    if (!LAYOUT_NAME.test(name)) {
      throw malformed(
        `layout name ${JSON.stringify(name.slice(0, 80))}: 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit`,
      );
    }
    const layout = this.read(name, toml);
    const now = new Date().toISOString();
    const stored: StoredLayout = {
      owner: identity.email,
      name,
      toml,
      parameters: layout.parameters,
      createdAt: now,
      updatedAt: now,
    };
    await inTransaction(this.db, async () => {
      await this.repo.insert(stored);
      this.record(identity, 'layout.create', name, stored.parameters);
    });
    return view(stored);
  }

  async view(header: string | undefined, name: string): Promise<NamedLayout> {
    const identity = await this.identify(header);
    if (name === DEFAULT_LAYOUT) return this.defaultView();
    return view(await this.owned(identity, name));
  }

  /** `default` first, then the caller's layouts by name. */
  async list(header: string | undefined, offset: number, limit: number): Promise<LayoutsPage> {
    const identity = await this.identify(header);
    if (limit < 1 || limit > MAX_LIMIT) throw invalidQuery(`limit must be 1 to ${MAX_LIMIT}`);
    const withDefault = offset === 0;
    const page = await this.repo.page(
      identity.email,
      withDefault ? 0 : offset - 1,
      withDefault ? limit - 1 : limit,
    );
    const layouts = page.items.map(view);
    return {
      total: page.total + 1,
      offset,
      limit,
      layouts: withDefault ? [this.defaultView(), ...layouts] : layouts,
    };
  }

  async update(header: string | undefined, name: string, toml: string): Promise<NamedLayout> {
    const identity = await this.identify(header);
    if (name === DEFAULT_LAYOUT) throw forbidden(READ_ONLY);
    if (!LAYOUT_NAME.test(name)) throw this.missing(name);
    const layout = this.read(name, toml);
    const changed = {
      owner: identity.email,
      name,
      toml,
      parameters: layout.parameters,
      updatedAt: new Date().toISOString(),
    };
    await inTransaction(this.db, async () => {
      if (!(await this.repo.update(changed))) throw this.missing(name);
      this.record(identity, 'layout.update', name, changed.parameters);
    });
    return view(changed);
  }

  async remove(header: string | undefined, name: string): Promise<void> {
    const identity = await this.identify(header);
    if (name === DEFAULT_LAYOUT) throw forbidden(READ_ONLY);
    if (!LAYOUT_NAME.test(name)) throw this.missing(name);
    await inTransaction(this.db, async () => {
      if (!(await this.repo.remove(identity.email, name))) throw this.missing(name);
      this.record(identity, 'layout.remove', name);
    });
  }

  /** For /mapping: the caller's layout of that name, or the server's for `default`. */
  async layoutFor(identity: Identity, name: string): Promise<Layout> {
    if (name === DEFAULT_LAYOUT) return this.defaultLayout;
    const stored = await this.owned(identity, name);
    // Read again: the environment that fills its gaps may have changed since it was stored.
    return this.read(name, stored.toml);
  }

  private missing(name: string) {
    return notFound(LAYOUT_NAME.test(name) ? `layout ${name} does not exist` : 'layout does not exist');
  }

  private async owned(identity: Identity, name: string): Promise<StoredLayout> {
    const stored = LAYOUT_NAME.test(name) ? await this.repo.byName(identity.email, name) : null;
    if (!stored) throw this.missing(name);
    return stored;
  }
}

const view = (l: NamedLayout): NamedLayout => ({ name: l.name, toml: l.toml, parameters: l.parameters });
