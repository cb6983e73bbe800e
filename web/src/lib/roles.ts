// What the signed-in user may do (the server checks again; this only hides what would fail).
import type { Role } from './gql/graphql';

export const canOperate = (user: { role: Role }) => user.role === 'ADMIN' || user.role === 'OPERATOR';
export const canAdmin = (user: { role: Role }) => user.role === 'ADMIN';
/** An end user of the self-service portal: their own devices, nothing else of the network. */
export const isSelfService = (user: { role: Role }) => user.role === 'SELF_SERVICE';

/** The self-service portal's page: the only one a self-service user is shown. */
export const MY_DEVICES_PATH = '/my';

/** Whether a self-service user may stay on this path (My devices); anything else sends them there. */
export const selfServiceMayVisit = (pathname: string) => pathname === MY_DEVICES_PATH || pathname.startsWith(`${MY_DEVICES_PATH}/`);

/** What each role means, in the words the user forms show beside the choice. */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  ADMIN: 'Everything, including users and the audit log.',
  OPERATOR: 'Changes WANs, peers and devices, and deploys.',
  VIEWER: 'Reads the network; changes nothing.',
  SELF_SERVICE: 'End user: adds and removes only their own devices in WANs opened for self-service, downloads their configs. Sees nothing else.',
};
