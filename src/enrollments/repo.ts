import { sql } from 'kysely';
import type { Db } from '../db/schema.js';
import { executor, onDuplicate } from '../db/transactions.js';
import { conflict } from '../errors.js';
import {
  type Attestation,
  type Enrollment,
  EnrollmentMessages,
  type Page,
  type Registration,
} from './types.js';

type EnrollmentRow = {
  id: string;
  owner_id: string;
  owner: string;
  name: string;
  attestation: string;
  group_key: string | null;
  ca_cert: string | null;
  layout: string;
  parameters: unknown;
  registration_id_pattern: string;
  max_devices: number | string | null;
  certificate: unknown;
  enabled: number | string | boolean;
  registered: number | string;
  created_at: string;
  updated_at: string;
};

type RegistrationRow = {
  enrollment_id: string;
  registration_id: string;
  thing_id: string;
  external_key: string;
  first_enrolled: string;
  last_enrolled: string;
  count: number | string;
};

const COLUMNS =
  'id, owner_id, owner, name, attestation, group_key, ca_cert, layout, parameters, registration_id_pattern, max_devices, certificate, enabled, registered, created_at, updated_at';

/** Enrollment groups and their registrations; every read of a group is scoped to its owner but the device's. */
export class EnrollmentsRepository {
  constructor(private db: Db) {}

  private ex() {
    return executor(this.db);
  }

  private toEnrollment(r: EnrollmentRow): Enrollment {
    const certificate = r.certificate === null ? null : this.db.parseJson(r.certificate);
    return {
      id: r.id,
      ownerId: r.owner_id,
      owner: r.owner,
      name: r.name,
      attestation: r.attestation as Attestation,
      groupKey: r.group_key,
      caCert: r.ca_cert,
      layout: r.layout,
      parameters: this.db.parseJson(r.parameters),
      registrationIdPattern: r.registration_id_pattern,
      maxDevices: r.max_devices === null ? null : Number(r.max_devices),
      certificate: certificate as Enrollment['certificate'],
      enabled: r.enabled === true || Number(r.enabled) === 1,
      registered: Number(r.registered),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  private toRegistration(r: RegistrationRow): Registration {
    return {
      enrollmentId: r.enrollment_id,
      registrationId: r.registration_id,
      thingId: r.thing_id,
      externalKey: r.external_key,
      firstEnrolled: r.first_enrolled,
      lastEnrolled: r.last_enrolled,
      count: Number(r.count),
    };
  }

  /** A name the owner already uses: conflict. */
  async insert(e: Enrollment): Promise<void> {
    await onDuplicate(
      sql`INSERT INTO enrollments (${sql.raw(COLUMNS)}) VALUES (${e.id}, ${e.ownerId}, ${e.owner}, ${e.name},
        ${e.attestation}, ${e.groupKey}, ${e.caCert}, ${e.layout}, ${this.db.json(e.parameters)},
        ${e.registrationIdPattern}, ${e.maxDevices}, ${e.certificate === null ? null : this.db.json(e.certificate)},
        ${e.enabled ? 1 : 0}, 0, ${e.createdAt}, ${e.updatedAt})`.execute(this.ex()),
      () => conflict(EnrollmentMessages.exists),
    );
  }

  /** The group, whoever owns it (a device registering names only the group). */
  async byId(id: string): Promise<Enrollment | null> {
    const rows =
      await sql<EnrollmentRow>`SELECT ${sql.raw(COLUMNS)} FROM enrollments WHERE id = ${id}`.execute(
        this.ex(),
      );
    return rows.rows[0] ? this.toEnrollment(rows.rows[0]) : null;
  }

  async list(ownerId: string, offset: number, limit: number): Promise<Page<Enrollment>> {
    const total = await sql<{ n: number | string }>`SELECT count(*) AS n FROM enrollments
      WHERE owner_id = ${ownerId}`.execute(this.ex());
    const rows =
      await sql<EnrollmentRow>`SELECT ${sql.raw(COLUMNS)} FROM enrollments WHERE owner_id = ${ownerId}
      ORDER BY created_at, id LIMIT ${limit} OFFSET ${offset}`.execute(this.ex());
    return {
      total: Number(total.rows[0]?.n ?? 0),
      offset,
      limit,
      items: rows.rows.map((r) => this.toEnrollment(r)),
    };
  }

  /** Writes the changeable fields (enabled, limits, parameters, pattern, key). */
  async update(e: Enrollment): Promise<void> {
    await sql`UPDATE enrollments SET enabled = ${e.enabled ? 1 : 0}, max_devices = ${e.maxDevices},
      parameters = ${this.db.json(e.parameters)}, registration_id_pattern = ${e.registrationIdPattern},
      group_key = ${e.groupKey}, updated_at = ${e.updatedAt}
      WHERE id = ${e.id} AND owner_id = ${e.ownerId}`.execute(this.ex());
  }

  async remove(ownerId: string, id: string): Promise<boolean> {
    const r = await sql`DELETE FROM enrollments WHERE id = ${id} AND owner_id = ${ownerId}`.execute(
      this.ex(),
    );
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async registration(enrollmentId: string, registrationId: string): Promise<Registration | null> {
    const rows = await sql<RegistrationRow>`SELECT * FROM enrollment_registrations
      WHERE enrollment_id = ${enrollmentId} AND registration_id = ${registrationId}`.execute(this.ex());
    return rows.rows[0] ? this.toRegistration(rows.rows[0]) : null;
  }

  /**
   * A device's first registration. The same registration id made by a concurrent
   * request first: conflict (the caller answers with that one).
   */
  async insertRegistration(r: Registration): Promise<void> {
    await onDuplicate(
      sql`INSERT INTO enrollment_registrations (enrollment_id, registration_id, thing_id, external_key,
        first_enrolled, last_enrolled, count) VALUES (${r.enrollmentId}, ${r.registrationId}, ${r.thingId},
        ${r.externalKey}, ${r.firstEnrolled}, ${r.lastEnrolled}, ${r.count})`.execute(this.ex()),
      () => conflict('registered concurrently'),
    );
  }

  /**
   * Counts one more device in the group unless it is full: false when `max_devices`
   * is reached. The group's row stays locked until the transaction ends, so this is the
   * last write of a registration.
   */
  async countIn(enrollmentId: string): Promise<boolean> {
    const r = await sql`UPDATE enrollments SET registered = registered + 1
      WHERE id = ${enrollmentId} AND (max_devices IS NULL OR registered < max_devices)`.execute(this.ex());
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async touchRegistration(enrollmentId: string, registrationId: string, at: string): Promise<void> {
    await sql`UPDATE enrollment_registrations SET last_enrolled = ${at}, count = count + 1
      WHERE enrollment_id = ${enrollmentId} AND registration_id = ${registrationId}`.execute(this.ex());
  }

  async registrations(enrollmentId: string, offset: number, limit: number): Promise<Page<Registration>> {
    const total = await sql<{ n: number | string }>`SELECT count(*) AS n FROM enrollment_registrations
      WHERE enrollment_id = ${enrollmentId}`.execute(this.ex());
    const rows = await sql<RegistrationRow>`SELECT * FROM enrollment_registrations
      WHERE enrollment_id = ${enrollmentId} ORDER BY first_enrolled, registration_id
      LIMIT ${limit} OFFSET ${offset}`.execute(this.ex());
    return {
      total: Number(total.rows[0]?.n ?? 0),
      offset,
      limit,
      items: rows.rows.map((r) => this.toRegistration(r)),
    };
  }

  /** A removed thing's registration goes, and its group counts one device less; returns those removed. */
  async forgetThing(thingId: string): Promise<{ enrollmentId: string; registrationId: string }[]> {
    const rows = await sql<{ enrollment_id: string; registration_id: string }>`DELETE FROM
      enrollment_registrations WHERE thing_id = ${thingId} RETURNING enrollment_id, registration_id`.execute(
      this.ex(),
    );
    for (const r of rows.rows) {
      await sql`UPDATE enrollments SET registered = registered - 1
        WHERE id = ${r.enrollment_id} AND registered > 0`.execute(this.ex());
    }
    return rows.rows.map((r) => ({ enrollmentId: r.enrollment_id, registrationId: r.registration_id }));
  }
}
