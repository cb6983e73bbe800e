// A real Meshplane server on an ephemeral loopback port with an admin's API token, and the
// real bin run as a child process against it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from '../../server/test/support/app.js';
import { registerAdmin, type GraphQLTestClient } from '../../server/test/support/graphql.js';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'meshplane.js');

export interface Server {
  app: TestApp;
  admin: GraphQLTestClient;
  token: string;
  stop(): Promise<void>;
}

export async function startServer(): Promise<Server> {
  const app = await startTestApp();
  const admin = await registerAdmin(app.graphqlUrl);
  const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "cli" }) { token } }`);
  return { app, admin: admin.withToken(createApiToken.token), token: createApiToken.token, stop: () => app.stop() };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `meshplane args…` in `cwd` against the server, the token in MESHPLANE_TOKEN unless `env` says otherwise. */
export function cli(server: Server, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, MESHPLANE_SERVER: server.app.url, MESHPLANE_TOKEN: server.token, ...options.env };
  delete env.INIT_CWD;
  delete env.npm_lifecycle_event;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: options.cwd ?? os.tmpdir(), env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-cli-'));
}
