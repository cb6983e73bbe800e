// Imports every type file (each registers itself on the builder) and builds the schema.
import { builder } from '../builder.js';
import './enums.js';
import './system.js';
import './user.js';
import './directory.js';
import './sign-in.js';
import './api-token.js';
import './wan.js';
import './peer.js';
import './subnet.js';
import './device.js';
import './overlay.js';
import './wan-summary.js';
import './self-service.js';
import './hub-usage.js';
import './deploy.js';
import './status.js';
import './audit.js';
import './events.js';
import './traffic.js';
import './webhook.js';
import './alerts.js';
import './drift.js';
import './adoption.js';
import './preshared-keys.js';

export const schema = builder.toSchema({ sortSchema: true });
