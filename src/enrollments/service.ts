import crypto from 'node:crypto';
import type { AuditLog } from '../audit/service.js';
import { SYSTEM } from '../audit/types.js';
import type { AuthService } from '../auth/service.js';
import { type Identity, KeyType } from '../auth/types.js';
import type { BootstrapService } from '../bootstrap/service.js';
import { keySizeProblem, parseValidity } from '../certs/rules.js';
import type { IssuedCert } from '../certs/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { DomainError, forbidden, malformed, notFound, unauthenticated } from '../errors.js';
import type { EventHub } from '../events.js';
import { nestedRepetition } from '../provision/parameters.js';
import { byteLength, isUuid } from '../things/types.js';
import type { FailureThrottle } from '../throttle.js';
import { caProblem, chainMatches, newGroupKey, sharedKeyMatches } from './attestation.js';
import type { EnrollmentsRepository } from './repo.js';
import {
  ATTESTATIONS,
  type Attestation,
  type CertificateSetting,
  type Enrollment,
  EnrollmentMessages,
  MAX_LIMIT,
  MAX_NAME,
  MAX_PATTERN,
  type Page,
  type Registration,
} from './types.js';

/** What enrollment needs of layouts and provisioning (ProvisionService provides it). */
export interface DeviceProvisioner {
  /**
   * Checks parameters against the owner's layout (or `default`): 400 naming the
   * parameter for an unknown one, a wrong type or a pattern mismatch (a required one may
   * still come from the device); with `deviceOnly`, for one the layout does not let a
   * device set. An unknown layout is a 400 naming it.
   */
  checkParameters(
    owner: Identity,
    layout: string,
    parameters: Record<string, unknown>,
    options: { deviceOnly: boolean },
  ): Promise<void>;
  /**
   * The layout's things, channels, connections, a whitelisted bootstrap config for the
   * gateway (external id: the registration id) and its certificate, in one transaction
   * that begins with `first` and ends with `last`; a failure leaves nothing.
   */
  provisionDevice(request: DeviceRequest): Promise<{ thingId: string; certificate: IssuedCert | null }>;
}

export type DeviceCertificate = { csr: string } | CertificateSetting;

export interface DeviceRequest {
  owner: Identity;
  layout: string;
  parameters: Record<string, unknown>;
  registrationId: string;
  externalKey: string;
  /** Added to the gateway thing's metadata. */
  metadata: Record<string, unknown>;
  certificate: DeviceCertificate | null;
  /** Runs first in the provisioning's transaction, with the gateway thing's id (chosen before). */
  first(thingId: string): Promise<void>;
  /** Runs last in it: what locks a row shared by every registration of the group. */
  last(): Promise<void>;
}

/** What certificates a registration that already happened needs. */
export interface ThingCertIssuer {
  issue(
    owner: Identity,
    request: { thingId: string; csr?: string; keyType?: string; keyBits?: number; valid?: string },
  ): Promise<IssuedCert>;
}

export interface NewEnrollment {
  name?: string;
  attestation?: string;
  caCert?: string;
  layout?: string;
  parameters?: Record<string, unknown>;
  registrationIdPattern?: string;
  maxDevices?: number | null;
  certificate?: { keyType?: string; keyBits?: number; valid?: string } | null;
  enabled?: boolean;
}

export interface EnrollmentChange {
  enabled?: boolean;
  maxDevices?: number | null;
  parameters?: Record<string, unknown>;
  registrationIdPattern?: string;
}

export interface DeviceRegistration {
  registrationId?: string;
  csr?: string;
  parameters?: Record<string, unknown>;
}

/** How the device proved itself: its Authorization header, and its TLS client chain (DER, leaf first). */
export interface DeviceProof {
  authorization?: string;
  chain: Buffer[];
  source: string;
}

export interface Registered {
  created: boolean;
  registrationId: string;
  thingId: string;
  certificate: IssuedCert | null;
  /** What GET /things/bootstrap/{registration id} answers. */
  bootstrap: Record<string, unknown>;
}

/** Registration ids: what a bootstrap external id, an MQTT client id and a certificate CN can all hold. */
const REGISTRATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DEFAULT_LAYOUT = 'default';

/**
 * Enrollment groups (zero-touch provisioning, as Azure DPS enrollment groups and AWS
 * fleet provisioning by claim): the operator sets a group's policy; a device proves it
 * holds the group's credential and registers itself, getting its own thing, channels,
 * bootstrap config and certificate from the group's layout, in one transaction.
 */
export class EnrollmentsService {
  constructor(
    private db: Db,
    private auth: AuthService,
    private repo: EnrollmentsRepository,
    private provisioner: DeviceProvisioner,
    private bootstrap: Pick<BootstrapService, 'fetch' | 'updateCerts'>,
    private certs: ThingCertIssuer | null,
    private throttle: FailureThrottle,
    events: EventHub,
    private audit: AuditLog,
  ) {
    // A removed thing's device may register again (as a new device).
    events.on('thing.removed', (e) => this.forgetThing(e.id, e.owner));
  }

  /** A removed thing's registration goes (the system's doing, in its own transaction). */
  private async forgetThing(thingId: string, owner: string): Promise<void> {
    await inTransaction(this.db, async () => {
      const forgotten = await this.repo.forgetThing(thingId);
      this.audit.record(
        SYSTEM,
        forgotten.map((r) => ({
          action: 'registration.remove' as const,
          entityId: r.registrationId,
          relatedId: thingId,
          owner,
          details: { enrollment: r.enrollmentId, reason: 'thing removed' },
        })),
      );
    });
  }

  /** A login token or an API key of a user. */
  async identify(header: string | undefined): Promise<Identity> {
    const identity = await this.auth.identify(header);
    if (identity.type === KeyType.recovery || !identity.userId) throw unauthenticated();
    return identity;
  }

  private async owned(identity: Identity, id: string): Promise<Enrollment> {
    const group = isUuid(id) ? await this.repo.byId(id.toLowerCase()) : null;
    if (!group || group.ownerId !== identity.userId) throw notFound(EnrollmentMessages.notFound);
    return group;
  }

  async create(header: string | undefined, input: NewEnrollment): Promise<Enrollment> {
    const identity = await this.identify(header);
    const name = input.name ?? '';
    if (name.length === 0 || byteLength(name) > MAX_NAME) throw malformed('name: 1 to 256 bytes');
    const attestation = input.attestation as Attestation;
    if (!ATTESTATIONS.includes(attestation)) throw malformed('attestation: symmetric_key or x509');
    let caCert: string | null = null;
    if (attestation === 'x509') {
      const problem = caProblem(input.caCert ?? '');
      if (problem) throw malformed(problem);
      caCert = input.caCert!;
    } else if (input.caCert) {
      throw malformed('ca_cert: only an x509 group takes one');
    }
    const layout = input.layout || DEFAULT_LAYOUT;
    const parameters = input.parameters ?? {};
    await this.provisioner.checkParameters(identity, layout, parameters, { deviceOnly: false });
    const now = new Date().toISOString();
    const group: Enrollment = {
      id: crypto.randomUUID(),
      ownerId: identity.userId,
      owner: identity.email,
      name,
      attestation,
      groupKey: attestation === 'symmetric_key' ? newGroupKey() : null,
      caCert,
      layout,
      parameters,
      registrationIdPattern: checkPattern(input.registrationIdPattern ?? ''),
      maxDevices: checkMax(input.maxDevices ?? null),
      certificate: checkCertificate(input.certificate ?? null),
      enabled: input.enabled ?? true,
      registered: 0,
      createdAt: now,
      updatedAt: now,
    };
    await inTransaction(this.db, async () => {
      await this.repo.insert(group);
      this.audit.record(identity, {
        action: 'enrollment.create',
        entityId: group.id,
        owner: group.owner,
        details: {
          name,
          attestation,
          layout,
          parameter_names: Object.keys(parameters),
          registration_id_pattern: group.registrationIdPattern,
          max_devices: group.maxDevices,
          certificate: group.certificate && {
            key_type: group.certificate.keyType,
            key_bits: group.certificate.keyBits,
            valid: group.certificate.valid,
          },
          enabled: group.enabled,
        },
      });
    });
    return group;
  }

  async view(header: string | undefined, id: string): Promise<Enrollment> {
    return this.owned(await this.identify(header), id);
  }

  async list(header: string | undefined, offset: number, limit: number): Promise<Page<Enrollment>> {
    const identity = await this.identify(header);
    if (limit < 1 || limit > MAX_LIMIT) throw malformed(`limit: 1 to ${MAX_LIMIT}`);
    return this.repo.list(identity.userId, offset, limit);
  }

  async update(header: string | undefined, id: string, change: EnrollmentChange): Promise<Enrollment> {
    const identity = await this.identify(header);
    return inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      if (change.parameters !== undefined) {
        await this.provisioner.checkParameters(identity, group.layout, change.parameters, {
          deviceOnly: false,
        });
      }
      const next: Enrollment = {
        ...group,
        enabled: change.enabled ?? group.enabled,
        maxDevices: change.maxDevices === undefined ? group.maxDevices : checkMax(change.maxDevices),
        parameters: change.parameters ?? group.parameters,
        registrationIdPattern:
          change.registrationIdPattern === undefined
            ? group.registrationIdPattern
            : checkPattern(change.registrationIdPattern),
        updatedAt: new Date().toISOString(),
      };
      await this.repo.update(next);
      this.audit.record(identity, {
        action: 'enrollment.update',
        entityId: group.id,
        owner: group.owner,
        details: changed(change, next),
      });
      return next;
    });
  }

  /** The enrolled devices stay as they are. */
  async remove(header: string | undefined, id: string): Promise<void> {
    const identity = await this.identify(header);
    await inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      if (!(await this.repo.remove(identity.userId, group.id))) throw notFound(EnrollmentMessages.notFound);
      this.audit.record(identity, {
        action: 'enrollment.remove',
        entityId: group.id,
        owner: group.owner,
        details: { name: group.name },
      });
    });
  }

  /** A new group key; the old one stops working at once. */
  async rotateKey(header: string | undefined, id: string): Promise<string> {
    const identity = await this.identify(header);
    return inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      if (group.attestation !== 'symmetric_key') throw malformed('only a symmetric_key group has a key');
      const groupKey = newGroupKey();
      await this.repo.update({ ...group, groupKey, updatedAt: new Date().toISOString() });
      // That it changed; never the key.
      this.audit.record(identity, {
        action: 'enrollment.rotate_key',
        entityId: group.id,
        owner: group.owner,
      });
      return groupKey;
    });
  }

  async registrations(
    header: string | undefined,
    id: string,
    offset: number,
    limit: number,
  ): Promise<Page<Registration>> {
    const identity = await this.identify(header);
    if (limit < 1 || limit > MAX_LIMIT) throw malformed(`limit: 1 to ${MAX_LIMIT}`);
    const group = await this.owned(identity, id);
    return this.repo.registrations(group.id, offset, limit);
  }

  /**
   * A device registers itself. The first time it gets a new thing (created: true);
   * again, the same thing (created: false), with a new certificate when it sends a CSR
   * or its group makes keys.
   */
  async register(id: string, input: DeviceRegistration, proof: DeviceProof): Promise<Registered> {
    const registrationId = input.registrationId ?? '';
    if (!REGISTRATION_ID.test(registrationId)) {
      throw malformed('registration_id: 1 to 128 letters, digits and . _ : -');
    }
    const group = isUuid(id) ? await this.repo.byId(id.toLowerCase()) : null;
    if (!group) throw notFound(EnrollmentMessages.notFound);
    const subject = `enrollment:${group.id}:${registrationId}`;
    this.throttle.check(subject, proof.source);
    const proven =
      group.attestation === 'symmetric_key'
        ? sharedKeyMatches(proof.authorization, group.groupKey ?? '', registrationId)
        : await chainMatches(proof.chain, group.caCert ?? '', registrationId);
    if (!proven) {
      this.throttle.failed(subject, proof.source);
      throw unauthenticated(EnrollmentMessages.badCredentials);
    }
    this.throttle.succeeded(subject, proof.source);
    if (!group.enabled) throw forbidden(EnrollmentMessages.disabled);
    if (group.registrationIdPattern && !new RegExp(group.registrationIdPattern, 'u').test(registrationId)) {
      throw forbidden(EnrollmentMessages.pattern);
    }
    // The device acts for the group's owner: every event of its registration names the group.
    const owner: Identity = {
      email: group.owner,
      userId: group.ownerId,
      type: KeyType.login,
      actor: `enrollment:${group.id}`,
    };
    const deviceParameters = input.parameters ?? {};
    await this.provisioner.checkParameters(owner, group.layout, deviceParameters, { deviceOnly: true });
    const certificate: DeviceCertificate | null = input.csr
      ? { csr: input.csr }
      : (group.certificate ?? null);

    const existing = await this.repo.registration(group.id, registrationId);
    if (existing) return this.again(group, owner, existing, certificate, proof.source);
    if (group.maxDevices !== null && group.registered >= group.maxDevices) {
      throw forbidden(EnrollmentMessages.full);
    }
    // Checked whole (required ones included) by provisionDevice, before it writes anything.
    const parameters = { ...group.parameters, ...deviceParameters };
    const externalKey = crypto.randomBytes(24).toString('base64url');
    const now = new Date().toISOString();
    let made: { thingId: string; certificate: IssuedCert | null };
    try {
      made = await this.provisioner.provisionDevice({
        owner,
        layout: group.layout,
        parameters,
        registrationId,
        externalKey,
        metadata: { registration_id: registrationId, enrollment: group.id },
        certificate,
        // The registration first: the same device registering at the same moment waits
        // here and fails before writing anything; the group's count last, as it locks
        // the group's row until the commit.
        first: async (thingId) => {
          await this.repo.insertRegistration({
            enrollmentId: group.id,
            registrationId,
            thingId,
            externalKey,
            firstEnrolled: now,
            lastEnrolled: now,
            count: 1,
          });
          this.audit.record(owner, {
            action: 'registration.create',
            entityId: registrationId,
            relatedId: thingId,
            owner: group.owner,
            details: { enrollment: group.id },
          });
        },
        last: async () => {
          if (!(await this.repo.countIn(group.id))) throw forbidden(EnrollmentMessages.full);
        },
      });
    } catch (err) {
      // The same device registering at the same moment got there first: answer with its thing.
      const raced =
        err instanceof DomainError && err.kind === 'conflict'
          ? await this.repo.registration(group.id, registrationId)
          : null;
      if (!raced) throw err;
      return this.again(group, owner, raced, certificate, proof.source);
    }
    return {
      created: true,
      registrationId,
      thingId: made.thingId,
      certificate: made.certificate,
      bootstrap: await this.bootstrapOf(registrationId, externalKey, proof.source),
    };
  }

  /** A registration that happened before: the same thing, and a new certificate when one is asked for. */
  private async again(
    group: Enrollment,
    owner: Identity,
    registration: Registration,
    certificate: DeviceCertificate | null,
    source: string,
  ): Promise<Registered> {
    let issued: IssuedCert | null = null;
    if (certificate && this.certs) {
      issued = await this.certs.issue(owner, {
        thingId: registration.thingId,
        ...('csr' in certificate ? { csr: certificate.csr } : certificate),
      });
      await this.bootstrap.updateCerts(owner, registration.thingId, {
        clientCert: issued.cert,
        clientKey: issued.key,
        caCert: issued.caCert,
      });
    }
    await this.repo.touchRegistration(group.id, registration.registrationId, new Date().toISOString());
    return {
      created: false,
      registrationId: registration.registrationId,
      thingId: registration.thingId,
      certificate: issued,
      bootstrap: await this.bootstrapOf(registration.registrationId, registration.externalKey, source),
    };
  }

  private async bootstrapOf(
    registrationId: string,
    externalKey: string,
    source: string,
  ): Promise<Record<string, unknown>> {
    return (await this.bootstrap.fetch(registrationId, externalKey, source)) as unknown as Record<
      string,
      unknown
    >;
  }
}

/** What an update changed, by field (parameters by name: their values may be anything). */
function changed(change: EnrollmentChange, next: Enrollment): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  if (change.enabled !== undefined) details.enabled = next.enabled;
  if (change.maxDevices !== undefined) details.max_devices = next.maxDevices;
  if (change.registrationIdPattern !== undefined)
    details.registration_id_pattern = next.registrationIdPattern;
  if (change.parameters !== undefined) details.parameter_names = Object.keys(next.parameters);
  return details;
}

function checkPattern(pattern: string): string {
  if (byteLength(pattern) > MAX_PATTERN) throw malformed('registration_id_pattern: at most 1024 bytes');
  try {
    new RegExp(pattern, 'u');
  } catch {
    throw malformed('registration_id_pattern: not a regular expression');
  }
  // Devices choose the ids it is matched against: no pattern whose backtracking explodes.
  if (nestedRepetition(pattern)) {
    throw malformed(
      'registration_id_pattern: a repeated group that itself repeats, such as (a+)+, is refused',
    );
  }
  return pattern;
}

function checkMax(max: number | null): number | null {
  if (max === null) return null;
  if (!Number.isInteger(max) || max < 1)
    throw malformed('max_devices: a positive integer, or null for no limit');
  return max;
}

function checkCertificate(
  c: { keyType?: string; keyBits?: number; valid?: string } | null,
): CertificateSetting | null {
  if (c === null) return null;
  const keyType = c.keyType || 'rsa';
  if (keyType !== 'rsa' && keyType !== 'ec') throw malformed('certificate.key_type: rsa or ec');
  const keyBits = c.keyBits || (keyType === 'ec' ? 256 : 2048);
  const problem = keySizeProblem(keyType, keyBits);
  if (problem) throw malformed(`certificate.key_bits: ${problem}`);
  const valid = c.valid || '8760h';
  if (parseValidity(valid) === null) throw malformed('certificate.valid: a duration such as 8760h');
  return { keyType, keyBits, valid };
}
