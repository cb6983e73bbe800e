// Devices declared in a YAML file (MESHPLANE_CONFIG), as operators of wg-portal know it:
//
//   backend:
//     default: edge-1            # where new WAN memberships go ("manual" or absent: none)
//   devices:
//     - name: edge-1
//       kind: ROUTEROS_API       # LINUX | ROUTEROS_API | ROUTEROS_REST | PFSENSE | OPNSENSE | OPENWRT
//       host: 192.0.2.1
//       port: 8729
//       username: meshplane
//       password: ${EDGE1_PASSWORD}   # credentials may come from the environment
//       tls: true                # optional on the kind's own ports (8728/8729, 80/443): they imply it
//       tlsVerify: true
//       caFile: /etc/meshplane/edge-1-ca.pem
//       timeoutMs: 10000
//       concurrency: 2
//       autoRepair: false        # deploy Meshplane's items back when the drift watch finds them changed
//   ldap: ...                    # directory sign-in and sync (schema: services/auth/ldap-config.ts)
//   oidc: ...                    # single sign-on (schema: services/auth/oidc-config.ts)
//
// Only the credential fields expand ${VAR}; everything else is taken literally and validated.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { resolveTls } from '../domain/device-ports.js';
import { DomainError } from '../domain/errors.js';
import { ldapFileSchema, type LdapFileSection } from '../services/auth/ldap-config.js';
import { oidcFileSchema, type OidcFileSection } from '../services/auth/oidc-config.js';

const kind = z.enum(['LINUX', 'ROUTEROS_API', 'ROUTEROS_REST', 'PFSENSE', 'OPNSENSE', 'OPENWRT']);

const deviceSchema = z
  .object({
    name: z.string().min(1).max(64),
    kind,
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).optional(),
    // An OPNsense API key (the Basic user name) is 80 characters.
    username: z.string().max(256).optional(),
    password: z.string().max(1024).optional(),
    apiKey: z.string().max(1024).optional(),
    tls: z.boolean().optional(),
    tlsVerify: z.boolean().default(true),
    caFile: z.string().optional(),
    timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    concurrency: z.number().int().min(1).max(64).default(1),
    managementAddress: z.string().max(253).optional(),
    autoRepair: z.boolean().default(false),
  })
  .strict();

const fileSchema = z
  .object({
    backend: z.object({ default: z.string().optional() }).strict().default({}),
    devices: z.array(deviceSchema).default([]),
    ldap: ldapFileSchema.optional(),
    oidc: oidcFileSchema.optional(),
  })
  .strict();

export interface ConfiguredDevice {
  name: string;
  kind: z.infer<typeof kind>;
  host: string;
  port: number | null;
  username: string | null;
  /** Password or API key, already expanded from the environment. */
  secret: string | null;
  tls: boolean;
  tlsVerify: boolean;
  caPem: string | null;
  timeoutMs: number;
  concurrency: number;
  managementAddress: string | null;
  /** Deploy Meshplane's items back when the drift watch finds them changed (Device.autoRepair). */
  autoRepair: boolean;
}

export interface MeshplaneConfig {
  /** Device name new WAN memberships are bound to, or null for manual peers. */
  defaultDevice: string | null;
  devices: ConfiguredDevice[];
  /** The `ldap:` section (bindPassword expanded, caFile absolute), for services/auth/ldap-config.ts. */
  ldap?: LdapFileSection;
  /** The `oidc:` section (clientSecret expanded), for services/auth/oidc-config.ts. */
  oidc?: OidcFileSection;
}

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
}

function expandEnv(value: string | undefined, field: string, env: NodeJS.ProcessEnv): string | null {
  if (value === undefined) return null;
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const found = env[name];
    if (found === undefined) throw new ConfigFileError(`${field} refers to \${${name}}, which is not set in the environment`);
    return found;
  });
}

/** The same rule as the API: TLS follows the kind's well-known ports unless stated. */
function tlsOf(device: { kind: string; port?: number | undefined; tls?: boolean | undefined }, field: string): boolean {
  try {
    return resolveTls(device.kind, device.port, device.tls) ?? true;
  } catch (error) {
    if (error instanceof DomainError) throw new ConfigFileError(`${field}.${error.message}`);
    throw error;
  }
}

export function parseConfig(text: string, baseDir: string, env: NodeJS.ProcessEnv): MeshplaneConfig {
  const result = fileSchema.safeParse(parse(text) ?? {});
  if (!result.success) {
    throw new ConfigFileError(`invalid configuration: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const { backend, devices, ldap, oidc } = result.data;
  const names = new Set<string>();
  const configured = devices.map((device, index): ConfiguredDevice => {
    if (names.has(device.name)) throw new ConfigFileError(`devices[${index}]: the name "${device.name}" is used twice`);
    names.add(device.name);
    const field = `devices[${index}] (${device.name})`;
    return {
      name: device.name,
      kind: device.kind,
      host: device.host,
      port: device.port ?? null,
      username: device.username ?? null,
      secret: expandEnv(device.apiKey ?? device.password, `${field}.${device.apiKey ? 'apiKey' : 'password'}`, env),
      tls: tlsOf(device, field),
      tlsVerify: device.tlsVerify,
      caPem: device.caFile ? fs.readFileSync(path.resolve(baseDir, device.caFile), 'utf8') : null,
      timeoutMs: device.timeoutMs,
      concurrency: device.concurrency,
      managementAddress: device.managementAddress ?? null,
      autoRepair: device.autoRepair,
    };
  });
  const defaultDevice = backend.default && backend.default !== 'manual' ? backend.default : null;
  if (defaultDevice && !names.has(defaultDevice)) throw new ConfigFileError(`backend.default names "${defaultDevice}", which is not among the devices`);
  return {
    defaultDevice,
    devices: configured,
    ...(ldap
      ? {
          ldap: {
            ...ldap,
            ...(ldap.bindPassword === undefined ? {} : { bindPassword: expandEnv(ldap.bindPassword, 'ldap.bindPassword', env) ?? undefined }),
            ...(ldap.caFile ? { caFile: path.resolve(baseDir, ldap.caFile) } : {}),
          },
        }
      : {}),
    ...(oidc ? { oidc: { ...oidc, ...(oidc.clientSecret === undefined ? {} : { clientSecret: expandEnv(oidc.clientSecret, 'oidc.clientSecret', env) ?? undefined }) } } : {}),
  };
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv): MeshplaneConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigFileError(`cannot read MESHPLANE_CONFIG ${file}: ${(error as Error).message}`);
  }
  return parseConfig(text, path.dirname(path.resolve(file)), env);
}
