import { builder } from '../builder.js';
import { DeviceKind, JobKind, JobStatus, PeerRole, Role, Topology } from '../../generated/prisma/enums.js';

export const RoleEnum = builder.enumType(Role, { name: 'Role', description: 'ADMIN ⊇ OPERATOR ⊇ VIEWER ⊇ SELF_SERVICE (self-service users see and manage only their own peers)' });
export const TopologyEnum = builder.enumType(Topology, { name: 'Topology' });
export const PeerRoleEnum = builder.enumType(PeerRole, { name: 'PeerRole' });
export const DeviceKindEnum = builder.enumType(DeviceKind, { name: 'DeviceKind' });
export const JobKindEnum = builder.enumType(JobKind, { name: 'JobKind' });
export const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });
