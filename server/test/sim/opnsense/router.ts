// Path → module/controller/action/params (/work/shared/ref/opnsense.md §1.1) and the endpoint table.
// Endpoint families register here (registerWireGuardEndpoints, registerFilterEndpoints, …; the
// list is endpoints.ts). Module and controller must match their class name case-sensitively after
// `_x` → `X` and an upper-case first letter (`one_to_one` and `oneToOne` reach OneToOneController,
// `onetoone` does not); the action is matched case-insensitively, as PHP method names are.
import type { OpnSenseFaults } from './faults.js';
import type { OpnSenseModel } from './model.js';
import type { VersionFeatures } from './versions.js';

export type JsonObject = Record<string, unknown>;

export interface Call {
  method: string;
  /** Positional parameters after the action, URL-decoded. */
  params: string[];
  /** $_POST: the decoded JSON object (or {} when the body was not JSON / ignored). */
  post: JsonObject;
  /** The query string ($_GET). */
  query: URLSearchParams;
  model: OpnSenseModel;
  faults: OpnSenseFaults;
  features: VersionFeatures;
}

/** `$request->get(name)`: POST data first, then the query string. */
export function requestValue(call: Call, name: string): unknown {
  if (Object.hasOwn(call.post, name)) return call.post[name];
  return call.query.has(name) ? call.query.get(name) : undefined;
}

/** A handler's reply: a JSON body with HTTP 200, or an explicit status. */
export class Reply {
  constructor(readonly status: number, readonly body: unknown) {}
}

/** OPNsense's UserException: 500 (26.7: 200 for warning/info levels) {errorMessage, errorTitle[, errorLevel]}. */
export class UserException extends Error {
  constructor(message: string, readonly title: string, readonly level: 'error' | 'warning' | 'info' = 'error') {
    super(message);
  }
}

/** Any other PHP error (a TypeError, "Array to string conversion", …): 500 Unexpected error. */
export class PhpError extends Error {}

export type Handler = (call: Call) => unknown | Promise<unknown>;

export interface EndpointOptions {
  /** Counts in inspect().writes (add/set/del/toggle/reconfigure/apply/…); search/get/show are reads. */
  write?: boolean;
  /** Positional parameters the PHP action requires; fewer → dispatch error. */
  minParams?: number;
  /** First version that has it (inclusive). */
  since?: string;
  /** First version that no longer has it. */
  until?: string;
  /** Runs a configd action (reconfigure, apply): delayed by faults.slowConfigdMs. */
  configd?: boolean;
}

export interface Endpoint extends EndpointOptions {
  /** "wireguard/server/searchServer" as registered. */
  name: string;
  handler: Handler;
}

export interface Resolved {
  endpoint: Endpoint;
  params: string[];
  /** "wireguard/server/searchServer": the registered name (request log, faults). */
  action: string;
}

export type DispatchError = { kind: 'controller' | 'action'; name: string };

const camel = (part: string) => part.replace(/_([a-z])/gi, (_, letter: string) => letter.toUpperCase());
const className = (part: string) => {
  const name = camel(part);
  return name.charAt(0).toUpperCase() + name.slice(1);
};

export class Router {
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly isAvailable: (endpoint: EndpointOptions) => boolean) {}

  /** `path` = "module/controller/action" as in the ACL (lower-case, snake_case controllers). */
  register(path: string, handler: Handler, options: EndpointOptions = {}): void {
    const [module = '', controller = '', action = ''] = path.split('/');
    const key = `${className(module)}/${className(controller)}/${camel(action).toLowerCase()}`;
    if (this.endpoints.has(key)) throw new Error(`endpoint ${path} registered twice`);
    this.endpoints.set(key, { ...options, name: path, handler });
  }

  /** Resolves "/api/…" (already without the query); a DispatchError when nothing answers. */
  resolve(pathname: string): Resolved | DispatchError {
    const parts = pathname.split('/').filter((part) => part !== '');
    if (parts[0] !== 'api' || parts.length < 3) return { kind: 'controller', name: parts.slice(1, 3).join('/') };
    const [, module = '', controller = '', action = 'index', ...params] = parts;
    const key = `${className(module)}/${className(controller)}/${camel(action).toLowerCase()}`;
    const endpoint = this.endpoints.get(key);
    const controllerKnown = [...this.endpoints.keys()].some((known) => known.startsWith(`${className(module)}/${className(controller)}/`));
    if (!endpoint || !this.isAvailable(endpoint)) {
      return controllerKnown ? { kind: 'action', name: action } : { kind: 'controller', name: `${className(controller)}Controller` };
    }
    const decoded = params.map((param) => decodeURIComponent(param));
    if (decoded.length < (endpoint.minParams ?? 0)) return { kind: 'action', name: action };
    return { endpoint, params: decoded, action: endpoint.name };
  }
}

/** A family of endpoints (WireGuard, filter, network, …) added to the router at start. */
export type EndpointFamily = (router: Router, model: OpnSenseModel) => void;
