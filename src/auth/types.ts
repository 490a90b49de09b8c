export const KeyType = { login: 0, recovery: 1, api: 2 } as const;
export type KeyTypeValue = (typeof KeyType)[keyof typeof KeyType];

/** Who a request acts as, once its credential is verified. */
export interface Identity {
  /** The user's email: owner of things, channels, configs and certs. */
  email: string;
  userId: string;
  type: KeyTypeValue;
  keyId?: string;
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
