/** Enrollment groups (zero-touch provisioning): what a group is and what its devices get. */

export type Attestation = 'symmetric_key' | 'x509';
export const ATTESTATIONS: readonly Attestation[] = ['symmetric_key', 'x509'];

/** What a group's certificates are made with when a device sends no CSR (as POST /certs takes it). */
export interface CertificateSetting {
  keyType: string;
  keyBits: number;
  valid: string;
}

export interface Enrollment {
  id: string;
  /** The owner's user id and email: the things it makes are the owner's. */
  ownerId: string;
  owner: string;
  name: string;
  attestation: Attestation;
  /** symmetric_key: 32 random bytes, base64; the device proves HMAC-SHA256(key, registration id). */
  groupKey: string | null;
  /** x509: the CA (PEM) device certificates chain to. */
  caCert: string | null;
  layout: string;
  parameters: Record<string, unknown>;
  registrationIdPattern: string;
  /** null: no limit. */
  maxDevices: number | null;
  certificate: CertificateSetting | null;
  enabled: boolean;
  /** Devices registered now (a device whose thing is removed no longer counts). */
  registered: number;
  createdAt: string;
  updatedAt: string;
}

export interface Registration {
  enrollmentId: string;
  registrationId: string;
  thingId: string;
  /** The bootstrap config's external key (the device's own secret, made at registration). */
  externalKey: string;
  firstEnrolled: string;
  lastEnrolled: string;
  count: number;
}

export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export const MAX_NAME = 256;
export const MAX_PATTERN = 1024;
export const MAX_REGISTRATION_ID = 128;
export const MAX_LIMIT = 100;

export const EnrollmentMessages = {
  notFound: 'enrollment group not found',
  exists: 'an enrollment group with this name already exists',
  badCredentials: 'the device credential does not match the enrollment group',
  disabled: 'the enrollment group is disabled',
  pattern: 'the registration id does not match the registration_id_pattern of the group',
  full: 'the enrollment group has reached max_devices',
} as const;
