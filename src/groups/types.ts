/** Groups of the auth service (API.md §2.2, MODEL.md §2.3). */
export interface Group {
  id: string;
  ownerId: string;
  parentId: string | null;
  name: string;
  description: string;
  metadata: Record<string, unknown>;
  /** Ancestor ids and its own, joined by `.`: a root's path is its id. */
  path: string;
  /** A root is level 1. */
  level: number;
  createdAt: string;
  updatedAt: string;
}

export interface GroupNode extends Group {
  children?: GroupNode[];
}

export interface Member {
  id: string;
  type: string;
}

export interface Paged<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export const MAX_LEVEL = 5;
export const MAX_GROUP_NAME = 254;
export const MAX_DESCRIPTION = 1024;
export const MAX_MEMBER_ID = 256;
export const MAX_MEMBERS_A_REQUEST = 10_000;
export const MEMBER_TYPE_THINGS = 'things';
export const MEMBER_TYPE_USERS = 'users';

/** The texts of 0.12.1's group errors. */
export const GroupMessages = {
  unauthorized: 'unauthorized access',
  notFound: 'entity not found',
  exists: 'group already exists',
  notEmpty: 'group is not empty',
  assigned: 'member is already assigned',
  maxLevel: 'maximum level of groups exceeded',
} as const;
