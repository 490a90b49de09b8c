export const KeyType = { login: 0, recovery: 1, api: 2 } as const;
export type KeyTypeValue = (typeof KeyType)[keyof typeof KeyType];

/** Who a request acts as, once its credential is verified. */
export interface Identity {
  /** The user's email: owner of things, channels, configs and certs. */
  email: string;
  userId: string;
  type: KeyTypeValue;
  keyId?: string;
  /**
   * Who acts, when not the user or their key: a service acting for the user names the
   * real actor for the audit trail (`enrollment:<group id>`, `thing:<id>`, `system`).
   */
  actor?: string;
}

export interface ApiKey {
  id: string;
  type: number;
  issuerId: string;
  subject: string;
  issuedAt: Date;
  expiresAt: Date | null;
}

export interface IssuedKey {
  id?: string;
  value: string;
  issuedAt: Date;
  expiresAt?: Date;
}
