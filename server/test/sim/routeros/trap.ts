// RouterOS errors as the model raises them. The API turns one into `!trap =message=…`
// (+ `=category=` when known) followed by `!done`; REST into an error JSON body (status
// chosen in rest-server.ts). Texts come from routeros.md §1.10 unless marked
// "unverified" (the reference found no capture; chosen to look like RouterOS).

export type TrapCode =
  | 'NO_SUCH_ITEM'
  | 'NO_SUCH_COMMAND'
  | 'NO_SUCH_DIRECTORY'
  | 'UNKNOWN_PARAMETER'
  | 'NO_MATCH'
  | 'INVALID_VALUE'
  | 'OUT_OF_RANGE'
  | 'MISSING_PARAMETER'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'NOT_ALLOWED'
  | 'INTERRUPTED'
  | 'LOGIN_FAILED'
  | 'INJECTED'
  | 'SIMULATOR_BUG';

/** RouterOS trap categories (routeros.md §1.5). */
export const TrapCategory = {
  missingItemOrCommand: 0,
  argumentValue: 1,
  interrupted: 2,
  generalFailure: 4,
} as const;

export class RouterOsTrap extends Error {
  constructor(
    readonly code: TrapCode,
    message: string,
    readonly category?: number,
  ) {
    super(message);
    this.name = 'RouterOsTrap';
  }
}

export const traps = {
  /** `set`/`remove`/`place-before` with an unknown `.id` [dev: tik4net#13]. */
  noSuchItem: () => new RouterOsTrap('NO_SUCH_ITEM', 'no such item', TrapCategory.missingItemOrCommand),
  /** Known menu, unknown command (e.g. `print where`) [dev: socialwifi#55]. */
  noSuchCommand: () => new RouterOsTrap('NO_SUCH_COMMAND', 'no such command', TrapCategory.missingItemOrCommand),
  /** Unknown path segment [dev: HA core#68115; DUMB fixture]. */
  noSuchDirectory: (segment: string) =>
    new RouterOsTrap('NO_SUCH_DIRECTORY', `no such command or directory (${segment})`, TrapCategory.missingItemOrCommand),
  /** Property not valid in this menu or version [dev: TF#679]. */
  unknownParameter: (name: string) => new RouterOsTrap('UNKNOWN_PARAMETER', `unknown parameter ${name}`),
  /** Bad reference or enum value [doc: DOC-API official example, category 1]. */
  noMatch: (property: string) =>
    new RouterOsTrap('NO_MATCH', `input does not match any value of ${property}`, TrapCategory.argumentValue),
  /** Malformed value. Unverified text. */
  invalidValue: (property: string, value: string) =>
    new RouterOsTrap('INVALID_VALUE', `invalid value for argument ${property}: ${value}`, TrapCategory.argumentValue),
  /** Range check, shaped like `value of priority out of range (1..254)` [dev: LAB723]. */
  outOfRange: (property: string, min: number, max: number) =>
    new RouterOsTrap('OUT_OF_RANGE', `value of ${property} out of range (${min}..${max})`, TrapCategory.argumentValue),
  /** A mandatory property is missing on `add`. Unverified text. */
  missing: (property: string) => new RouterOsTrap('MISSING_PARAMETER', `failure: ${property} not specified`),
  /** Duplicate interface name [public REST/API captures quote this text]. */
  interfaceExists: () => new RouterOsTrap('ALREADY_EXISTS', 'failure: already have interface with such name'),
  /** Duplicate name in other named menus [dev: node-routeros#26]. */
  nameExists: () => new RouterOsTrap('ALREADY_EXISTS', 'failure: already have such name'),
  /** Duplicate address on an interface. Unverified text. */
  addressExists: () => new RouterOsTrap('ALREADY_EXISTS', 'failure: already have such address'),
  /** WireGuard-specific conflicts; the reference lists these texts as unverified (§9). */
  conflict: (message: string) => new RouterOsTrap('CONFLICT', `failure: ${message}`),
  /** Changing something RouterOS manages itself. Unverified text. */
  notAllowed: (what: string) => new RouterOsTrap('NOT_ALLOWED', `failure: ${what}`),
  interrupted: () => new RouterOsTrap('INTERRUPTED', 'interrupted', TrapCategory.interrupted),
  /** Login failure on 6.43+/v7 [dev: LaiArturs#9, BenMenking#52]. */
  loginFailed: () => new RouterOsTrap('LOGIN_FAILED', 'invalid user name or password (6)'),
  /** Not RouterOS behaviour: an internal error of the simulator, surfaced as a trap. */
  simulatorBug: (error: unknown) =>
    new RouterOsTrap('SIMULATOR_BUG', `failure: simulator error: ${error instanceof Error ? error.message : String(error)}`, TrapCategory.generalFailure),
  /** What a fault switch makes a command fail with unless the test gave a message. */
  injected: (message = 'failure: simulated fault') => new RouterOsTrap('INJECTED', message, TrapCategory.generalFailure),
};
