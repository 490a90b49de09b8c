import { Type } from '@sinclair/typebox';
import { Answer, Metadata, omitEmpty } from '../http/schemas.js';
import type { GroupNode } from './types.js';

// What the groups domain's route files share (routes.ts: groups and their trees,
// member-routes.ts: members and the member listings): who may call, and a group's answer.

/** The auth service's family: bad credentials are 403 (API.md §0.5, family B). */
export const groups = { unauthenticated: 403 as const };
export const tags = ['groups'];

export function groupView(g: GroupNode): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    owner_id: g.ownerId,
    ...omitEmpty({ parent_id: g.parentId, description: g.description, metadata: g.metadata }),
    level: g.level,
    path: g.path,
    ...(g.children ? { children: g.children.map(groupView) } : {}),
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  };
}

// ---- answers (groupView above makes the view) -------------------------------------
export const groupFields = {
  id: Type.String({ description: 'ULID' }),
  name: Type.String(),
  owner_id: Type.String(),
  parent_id: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
  level: Type.Integer({ description: 'a root is level 1' }),
  path: Type.String({ description: 'ancestor ids and its own, joined by `.`' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};
export const GroupView = Answer(
  'A group (parent_id, description and metadata left out when empty)',
  groupFields,
);
