// The RouterOS driver connected to a fresh simulator for one test, recording every command
// word the simulator executes (so a test can count writes on the device, not only in a plan).
import { startRouterOsSimulator, type CommandRequest, type RouterOsSimulator } from '../../../../test/sim/routeros/index.js';
import type { UnmanagedStateOptions } from '../../../../test/sim/routeros/seed.js';
import type { DeviceKind, DeviceTarget } from '../../driver.js';
import { createRouterOsDriver, type RouterOsDriver } from '../index.js';

const WRITE_VERBS = new Set(['add', 'set', 'remove', 'enable', 'disable', 'move']);

export interface SimVariant {
  label: string;
  kind: DeviceKind;
  tls: boolean;
  version: string;
}

export interface SimHarness {
  sim: RouterOsSimulator;
  driver: RouterOsDriver;
  /** Command words the simulator executed since start (after login and seeding). */
  commands: string[];
  stop(): Promise<void>;
}

export interface SimHarnessOptions {
  maskSensitive?: boolean;
  target?: Partial<DeviceTarget>;
  unmanagedState?: UnmanagedStateOptions;
}

export function simTarget(sim: RouterOsSimulator, variant: SimVariant, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  const port = variant.kind === 'ROUTEROS_REST' ? sim.restPort : variant.tls ? sim.apiTlsPort : sim.apiPort;
  return {
    id: 'dev1', name: `sim ${variant.label}`, kind: variant.kind, host: sim.host, port, username: sim.username, secret: sim.password,
    tls: variant.tls, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5000, concurrency: 2, ...overrides,
  };
}

export async function simHarness(variant: SimVariant, options: SimHarnessOptions = {}): Promise<SimHarness> {
  const sim = await startRouterOsSimulator({ version: variant.version, maskSensitive: options.maskSensitive, ...(options.unmanagedState ? { unmanagedState: options.unmanagedState } : {}) });
  const commands: string[] = [];
  const execute = sim.model.execute.bind(sim.model);
  sim.model.execute = (request: CommandRequest) => {
    commands.push(request.command);
    return execute(request);
  };
  const driver = createRouterOsDriver(simTarget(sim, variant, options.target));
  return {
    sim, driver, commands,
    async stop() {
      await driver.close();
      await sim.stop();
    },
  };
}

/** The write commands among recorded command words. */
export const writesOf = (commands: readonly string[]) => commands.filter((command) => WRITE_VERBS.has(command.split('/').at(-1) ?? ''));
