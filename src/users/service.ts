import os from 'node:os';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { AuditLog } from '../audit/service.js';
import { type Actor, SYSTEM } from '../audit/types.js';
import type { AuthService } from '../auth/service.js';
import { type Identity, KeyType } from '../auth/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { DomainError, malformed, notConfigured, unauthenticated, upstreamFailed } from '../errors.js';
import { newEntityId } from '../ids.js';
import { Limiter } from '../limiter.js';
import type { FailureThrottle } from '../throttle.js';
import { isValidEmail } from './email.js';
import type { Mailer } from './mailer.js';
import type { UsersRepository } from './repo.js';
import type { User, UserFilter, UsersPage } from './types.js';

export interface UsersSettings {
  passRegex: RegExp;
  resetEndpoint: string;
  adminEmail: string;
  argon2: { memoryCost: number; timeCost: number };
}

const WEAK_PASSWORD = 'password does not meet the requirements';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UsersService {
  private hashOptions;
  /** One argon2id computation a core at most: each holds its memory cost while it runs. */
  private hashing = new Limiter(Math.max(1, os.availableParallelism()));
  /** Compared against when an email is unknown, so a login takes as long either way. */
  private decoy: Promise<string>;

  constructor(
    private users: UsersRepository,
    private auth: AuthService,
    private mailer: Mailer,
    private settings: UsersSettings,
    private throttle: FailureThrottle,
    private db: Db,
    private audit: AuditLog,
  ) {
    this.hashOptions = {
      algorithm: Algorithm.Argon2id,
      memoryCost: settings.argon2.memoryCost,
      timeCost: settings.argon2.timeCost,
      parallelism: 1,
    };
    this.decoy = Promise.resolve('');
  }

  private hashPassword(password: string): Promise<string> {
    return this.hashing.run(() => hash(password, this.hashOptions));
  }

  private checkPassword(password: string): void {
    if (!this.settings.passRegex.test(password)) throw malformed(WEAK_PASSWORD);
  }

  /**
   * POST /users: an account registers itself (its actor is its own email), or the
   * server creates the configured admin (`by` SYSTEM).
   */
  async register(
    input: {
      email: string;
      password: string;
      metadata?: Record<string, unknown>;
    },
    by?: Actor,
  ): Promise<string> {
    if (!isValidEmail(input.email) || !input.password) throw malformed();
    this.checkPassword(input.password);
    const id = newEntityId();
    const password = await this.hashPassword(input.password);
    const metadata = input.metadata ?? {};
    await inTransaction(this.db, async () => {
      await this.users.save({ id, email: input.email, password, metadata });
      this.audit.record(by ?? { actor: input.email, user: input.email }, {
        action: 'user.register',
        entityId: id,
        owner: input.email,
        details: { email: input.email, metadata_fields: Object.keys(metadata) },
      });
    });
    return id;
  }

  /** An event about the account itself: its entity is the user, its owner the user's email. */
  private recordOf(
    by: Identity | Actor,
    user: { id: string; email: string },
    action: 'user.update' | 'user.password_change' | 'user.password_reset',
    details?: Record<string, unknown>,
  ): void {
    this.audit.record(by, { action, entityId: user.id, owner: user.email, details });
  }

  /** Creates the configured admin account unless it exists. */
  async ensureAdmin(email: string, password: string): Promise<boolean> {
    if (!email) return false;
    if (await this.users.byEmail(email)) return false;
    try {
      await this.register({ email, password }, SYSTEM);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'conflict') return false;
      throw new Error(`cannot create the admin account ${email}: ${(err as Error).message}`);
    }
    return true;
  }

  /** POST /tokens; `source` is the caller's address, for throttling guesses (FailureThrottle). */
  async login(email: string, password: string, source = ''): Promise<string> {
    if (!isValidEmail(email)) throw malformed();
    const subject = `login:${email.toLowerCase()}`;
    this.throttle.check(subject, source);
    const user = await this.users.byEmail(email);
    if (!user) {
      await this.decoyVerify(password);
      this.throttle.failed(subject, source);
      throw unauthenticated();
    }
    if (!(await this.verifyPassword(user.password, password))) {
      this.throttle.failed(subject, source);
      throw unauthenticated();
    }
    this.throttle.succeeded(subject, source);
    return this.auth.issueLogin(user);
  }

  private async verifyPassword(stored: string, password: string): Promise<boolean> {
    try {
      return await this.hashing.run(() => verify(stored, password));
    } catch {
      return false;
    }
  }

  private async decoyVerify(password: string): Promise<void> {
    this.decoy = this.decoy.then((h) => h || this.hashPassword('decoy-password'));
    await this.verifyPassword(await this.decoy, password);
  }

  private async caller(header: string | undefined): Promise<User & { identity: Identity }> {
    const identity = await this.auth.identify(header);
    const user = await this.users.byEmail(identity.email);
    if (!user) throw unauthenticated();
    return { id: user.id, email: user.email, metadata: user.metadata, identity };
  }

  async profile(header: string | undefined): Promise<User> {
    const { id, email, metadata } = await this.caller(header);
    return { id, email, metadata };
  }

  async view(header: string | undefined, id: string): Promise<User> {
    await this.auth.identify(header);
    // Mainflux answers 403, not 404, for an unknown user id or one that is not a UUID
    // (its id column is a PostgreSQL uuid, so the case of the hex digits does not matter).
    if (!UUID.test(id)) throw unauthenticated();
    const user = await this.users.byId(id.toLowerCase());
    if (!user) throw unauthenticated();
    return user;
  }

  /** Everyone sees themselves; only the admin (MF_USERS_ADMIN_EMAIL) sees every user. */
  async list(header: string | undefined, filter: UserFilter): Promise<UsersPage> {
    const me = await this.caller(header);
    if (this.settings.adminEmail && me.email === this.settings.adminEmail) {
      const { total, users } = await this.users.list(filter);
      return { total, offset: filter.offset, limit: filter.limit, users };
    }
    const { total, users } = await this.users.list({ ...filter, id: me.id });
    return { total, offset: filter.offset, limit: filter.limit, users };
  }

  async update(header: string | undefined, metadata: Record<string, unknown> | undefined): Promise<void> {
    const me = await this.caller(header);
    await inTransaction(this.db, async () => {
      await this.users.updateMetadata(me.email, metadata ?? {});
      this.recordOf(me.identity, me, 'user.update', { metadata_fields: Object.keys(metadata ?? {}) });
    });
  }

  async changePassword(header: string | undefined, oldPassword: string, password: string): Promise<void> {
    if (!header) throw unauthenticated();
    if (!oldPassword) throw malformed();
    const identity = await this.auth.identify(header);
    this.checkPassword(password);
    const user = await this.users.byEmail(identity.email);
    if (!user || !(await this.verifyPassword(user.password, oldPassword))) throw unauthenticated();
    const hash = await this.hashPassword(password);
    await inTransaction(this.db, async () => {
      await this.users.updatePassword(user.email, hash);
      this.recordOf(identity, user, 'user.password_change');
    });
  }

  async requestReset(email: string, referer: string): Promise<void> {
    if (!email || !referer) throw malformed();
    if (!this.mailer.configured) {
      throw notConfigured(
        'password reset by e-mail is not available: no SMTP server is configured (MF_EMAIL_HOST)',
      );
    }
    // An address that cannot be valid cannot belong to a user (and is not looked up).
    const user = isValidEmail(email) ? await this.users.byEmail(email) : null;
    if (!user) throw malformed('non-existent user');
    // Records no event: nothing stored changes. The recovery token is a signed, short-lived
    // JWT that is not kept (and a secret); the change is the reset that uses it.
    const token = await this.auth.issueRecovery(user);
    try {
      // `https://host/` + `/reset-request`: one slash between them (a browser's Referer ends in one).
      const endpoint = this.settings.resetEndpoint;
      const base = endpoint.startsWith('/') ? referer.replace(/\/$/, '') : referer;
      await this.mailer.sendReset(user.email, `${base}${endpoint}?token=${token}`);
    } catch (err) {
      throw upstreamFailed('Sending e-mail failed', err);
    }
  }

  async resetPassword(token: string, password: string, confirm: string): Promise<void> {
    if (!password || !confirm) throw malformed();
    if (!token) throw malformed('missing reset token');
    if (password !== confirm) throw malformed();
    const identity = await this.auth.identify(token);
    if (identity.type !== KeyType.recovery && identity.type !== KeyType.login) throw unauthenticated();
    const user = await this.users.byEmail(identity.email);
    if (!user) throw malformed('non-existent user');
    this.checkPassword(password);
    const hash = await this.hashPassword(password);
    await inTransaction(this.db, async () => {
      await this.users.updatePassword(user.email, hash);
      this.recordOf(identity, user, 'user.password_reset');
    });
  }
}
