export interface User {
  id: string;
  email: string;
  metadata: Record<string, unknown>;
}

export interface UserWithHash extends User {
  password: string;
}

export interface UsersPage {
  total: number;
  offset: number;
  limit: number;
  users: User[];
}

export interface UserFilter {
  offset: number;
  limit: number;
  email?: string;
  metadata?: Record<string, unknown>;
  /** Restricts the list to one user (what a non-admin caller may see). */
  id?: string;
}
