// What the signed-in user may do (the server checks again; this only hides what would fail).
import type { Role } from './gql/graphql';

export const canOperate = (user: { role: Role }) => user.role === 'ADMIN' || user.role === 'OPERATOR';
export const canAdmin = (user: { role: Role }) => user.role === 'ADMIN';
