// WireGuard endpoints (/work/shared/ref/opnsense.md §2.2): general, server, client, service.
import type { Router } from './router.js';
import type { OpnSenseModel } from './model.js';

export function registerWireGuardEndpoints(_router: Router, _model: OpnSenseModel): void {
  // filled in next
}
