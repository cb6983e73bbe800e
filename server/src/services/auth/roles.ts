// Roles are ordered: an admin may do what an operator may, an operator what a viewer may.
// A self-service user ranks below a viewer: no role check of the rest of the API admits them.
import type { Role } from '../../generated/prisma/enums.js';

const rank: Record<Role, number> = { SELF_SERVICE: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

export function hasRole(actual: Role, required: Role): boolean {
  return rank[actual] >= rank[required];
}
