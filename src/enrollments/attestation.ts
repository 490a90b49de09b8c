import crypto from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * How a device proves it belongs to an enrollment group, without user credentials.
 *
 * symmetric_key: the device holds its own key, derived from the group key as Azure DPS
 * derives it, HMAC-SHA256(group key, registration id); it sends
 * `Authorization: SharedKey <base64 of that>`. A leaked device key exposes one device,
 * not the group.
 *
 * x509: the device presents a TLS client certificate on the HTTPS listener whose chain
 * ends at the group's CA and whose subject CN is the registration id.
 */

/** 32 random bytes, base64: a new group key. */
export function newGroupKey(): string {
  return crypto.randomBytes(32).toString('base64');
}

/** The device key of a registration id: base64(HMAC-SHA256(base64-decoded group key, id)). */
export function deviceKey(groupKey: string, registrationId: string): string {
  return crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64');
}

/** Whether `Authorization: SharedKey <k>` carries the device key of this registration id. */
export function sharedKeyMatches(
  header: string | undefined,
  groupKey: string,
  registrationId: string,
): boolean {
  const m = /^SharedKey\s+([A-Za-z0-9+/=_-]{1,200})\s*$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'base64');
  const expected = Buffer.from(deviceKey(groupKey, registrationId), 'base64');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** A group's CA: one parsable certificate that may sign others; else the reason. */
export function caProblem(pem: string): string | null {
  let ca: x509.X509Certificate;
  try {
    ca = new x509.X509Certificate(pem);
  } catch {
    return 'ca_cert: not a PEM certificate';
  }
  const basic = ca.getExtension(x509.BasicConstraintsExtension);
  if (basic && !basic.ca) return 'ca_cert: the certificate is not a CA (basic constraints)';
  const now = new Date();
  if (ca.notAfter < now) return 'ca_cert: the certificate has expired';
  return null;
}

/**
 * Whether `chain` (the client's certificates, DER, the leaf first) leads from a leaf
 * whose subject CN is the registration id, through the certificates it presents, to a
 * certificate the group's CA signed; every certificate on the way valid now.
 */
export async function chainMatches(chain: Buffer[], caPem: string, registrationId: string): Promise<boolean> {
  if (chain.length === 0) return false;
  let certs: x509.X509Certificate[];
  let ca: x509.X509Certificate;
  try {
    certs = chain.map((der) => new x509.X509Certificate(new Uint8Array(der)));
    ca = new x509.X509Certificate(caPem);
  } catch {
    return false;
  }
  const leaf = certs[0]!;
  const cn = leaf.subjectName.getField('CN');
  if (cn.length !== 1 || cn[0] !== registrationId) return false;
  const now = new Date();
  let current = leaf;
  for (let depth = 0; depth < 5; depth++) {
    if (current.notBefore > now || current.notAfter < now) return false;
    if (current.issuer === ca.subject && (await verifies(current, ca, now))) return true;
    const parent = certs.find((c) => c !== current && c.subject === current.issuer);
    if (!parent || !(await verifies(current, parent, now))) return false;
    current = parent;
  }
  return false;
}

async function verifies(
  cert: x509.X509Certificate,
  issuer: x509.X509Certificate,
  date: Date,
): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, date });
  } catch {
    return false;
  }
}
