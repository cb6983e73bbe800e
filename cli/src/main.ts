// meshplane: WAN as code over Meshplane's GraphQL API. Exit codes: 0 done (or no change),
// 1 error, 2 plan found changes, 3 the file or a change in it is refused (nothing was changed).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { Api, CliError } from './client.js';
import { applyPlan, formatPlan, planChanges, planJson, summary } from './plan.js';
import { WanFileSchema, type WanFile } from './schema.js';
import { findWan, readDevices, readWan, requireWan, toFile } from './state.js';

export interface Io {
  env: NodeJS.ProcessEnv;
  /** Where relative -f / -o paths start: the caller's directory. */
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `Usage: meshplane <command> [options]

Commands:
  export <wan> [-o file]              the WAN (name or id) as YAML
  plan -f wan.yaml [--prune]          what apply would change; exit 2 when something would
  apply -f wan.yaml [--prune] [--deploy]
                                      make the server match the file
  status <wan>                        tunnels up/down/unknown, stale peers
  config <peer> [--wan w] [-o file]   download the peer's configuration (file mode 0600)
  deploy <peer> [--wan w]             plan and deploy the peer to its device, following the job

Options:
  --server URL     Meshplane server (or MESHPLANE_SERVER), e.g. http://127.0.0.1:3000
  --token TOKEN    API token (or MESHPLANE_TOKEN; prefer the variable: flags show in ps)
  --output json    machine-readable output on stdout
  --prune          with plan/apply: also remove what the file does not list
  --deploy         with apply: deploy the changed peers that have a device, and follow the jobs

Exit codes: 0 success or no change, 1 error, 2 plan found changes, 3 file or change refused.`;

export async function main(argv: string[], io: Io): Promise<number> {
  let token = '';
  // Every line leaves through here, so the token cannot reach the output even inside a server message.
  // (A value too short to be a token would blank out ordinary words instead.)
  const redact = (text: string) => (token.length >= 8 ? text.split(token).join('***') : text);
  const out = (text: string) => io.stdout(redact(text));
  const err = (text: string) => io.stderr(redact(text));
  let json = false;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        output: { type: 'string' },
        file: { type: 'string', short: 'f' },
        out: { type: 'string', short: 'o' },
        wan: { type: 'string' },
        prune: { type: 'boolean', default: false },
        deploy: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    token = values.token ?? io.env.MESHPLANE_TOKEN ?? '';
    if (values.output !== undefined && values.output !== 'json' && values.output !== 'text') throw new CliError('USAGE', `--output: "json" or "text", not "${values.output}"`);
    json = values.output === 'json';
    const [command, ...args] = positionals;
    if (values.help || !command) {
      out(USAGE);
      return values.help ? 0 : 1;
    }
    const server = values.server ?? io.env.MESHPLANE_SERVER;
    if (!server) throw new CliError('USAGE', 'no server: give --server URL or set MESHPLANE_SERVER');
    if (!token) throw new CliError('USAGE', 'no API token: set MESHPLANE_TOKEN (or give --token); create one on Meshplane\'s API tokens page');
    const api = new Api(server, token);
    const resolve = (file: string) => path.resolve(io.cwd, file);
    const emit = (data: unknown, text: string) => out(json ? JSON.stringify(data, null, 2) : text);

    switch (command) {
      case 'export': {
        const wanArg = one(args, 'export <wan>');
        const yaml = await exportWan(api, wanArg);
        if (values.out && values.out !== '-') {
          fs.writeFileSync(resolve(values.out), yaml);
          emit({ wan: wanArg, file: values.out }, `wrote ${values.out}`);
        } else if (json) emit({ wan: wanArg, file: YAML.parse(yaml) }, '');
        else io.stdout(yaml.replace(/\n$/, ''));
        return 0;
      }
      case 'plan':
      case 'apply': {
        if (args.length) throw new CliError('USAGE', `${command} takes the file with -f, not "${args[0]}"`);
        if (!values.file) throw new CliError('USAGE', `${command} needs -f wan.yaml`);
        const file = readWanFile(resolve(values.file), values.file);
        const found = await findWan(api, file.wan.name);
        const state = found ? await readWan(api, found.id) : null;
        const plan = planChanges(file, state, await readDevices(api), values.prune);
        if (command === 'plan') {
          emit(planJson(plan), formatPlan(plan));
          return plan.refused.length ? 3 : plan.changes.length ? 2 : 0;
        }
        if (plan.refused.length) {
          emit({ ...planJson(plan), applied: false, mutations: 0 }, `${formatPlan(plan)}\nnothing applied: the file asks for changes the API cannot make`);
          return 3;
        }
        const mutations = await applyPlan(api, plan, state);
        const deployed = values.deploy ? await deployStale(api, file.wan.name, json ? () => undefined : out) : [];
        const failed = deployed.filter((job) => job.status !== 'SUCCEEDED');
        emit(
          { ...planJson(plan), applied: true, mutations, deployed },
          plan.changes.length ? `${formatPlan(plan)}\napplied: ${summary(plan)} (${mutations} API changes)` : formatPlan(plan),
        );
        return failed.length ? 1 : 0;
      }
      case 'status': {
        const wan = await requireWan(api, one(args, 'status <wan>'));
        const status = await wanStatus(api, wan.id);
        const lines = [`WAN ${wan.name}: ${status.tunnels.filter((t) => t.state === 'UP').length} up, ${status.tunnels.filter((t) => t.state === 'DOWN').length} down, ${status.tunnels.filter((t) => t.state === 'UNKNOWN').length} unknown; ${status.stale.length} stale`];
        for (const tunnel of status.tunnels) lines.push(`  ${tunnel.state.padEnd(7)} ${tunnel.from} ↔ ${tunnel.to}${tunnel.state === 'UP' ? '' : ` (${tunnel.reason})`}`);
        if (status.stale.length) lines.push(`  stale: ${status.stale.join(', ')}`);
        emit({ wan: wan.name, ...status }, lines.join('\n'));
        return 0;
      }
      case 'config': {
        const peer = await findPeer(api, one(args, 'config <peer>'), values.wan);
        const data = await api.mutate<{ downloadPeerConfig: { content: string; filename: string } }>(
          `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content filename } }`,
          { peerId: peer.id },
        );
        const { content, filename } = data.downloadPeerConfig;
        if (values.out === '-') {
          io.stdout(content.replace(/\n$/, ''));
          return 0;
        }
        const target = resolve(values.out ?? path.basename(filename));
        writePrivate(target);
        fs.writeFileSync(target, content, { mode: 0o600 });
        emit({ peer: peer.name, file: target, mode: '0600' }, `wrote ${target} (mode 0600)`);
        return 0;
      }
      case 'deploy': {
        const peer = await findPeer(api, one(args, 'deploy <peer>'), values.wan);
        const job = await deploy(api, peer, json ? () => undefined : out);
        emit(job, `deploy ${peer.name}: ${job.status}${job.error ? ` (${job.error})` : ''}`);
        return job.status === 'SUCCEEDED' ? 0 : 1;
      }
      default:
        throw new CliError('USAGE', `unknown command "${command}" (export, plan, apply, status, config, deploy)`);
    }
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError('ERROR', (error as Error).message);
    if (json) out(JSON.stringify({ error: { code: failure.code, message: failure.message } }, null, 2));
    else err(`meshplane: ${failure.code}: ${failure.message}`);
    return failure.exitCode;
  }
}

function one(args: string[], usage: string): string {
  if (args.length !== 1) throw new CliError('USAGE', `usage: meshplane ${usage}`);
  return args[0]!;
}

export async function exportWan(api: Api, nameOrId: string): Promise<string> {
  const wan = await requireWan(api, nameOrId);
  const file = toFile(await readWan(api, wan.id));
  return YAML.stringify(file, { lineWidth: 0 });
}

export function readWanFile(full: string, shown: string): WanFile {
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (error) {
    throw new CliError('FILE', `cannot read ${shown}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new CliError('INVALID_FILE', `${shown} is not YAML: ${(error as Error).message}`, 3);
  }
  const parsed = WanFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new CliError('INVALID_FILE', `${shown} does not match the WAN file schema (cli/wan.schema.json):\n${issues.join('\n')}`, 3);
  }
  return parsed.data;
}

/** Refuses to write secrets over a file others can read: its mode would stay (writeFile keeps an existing file's mode). */
function writePrivate(target: string): void {
  let mode: number;
  try {
    mode = fs.statSync(target).mode & 0o777;
  } catch {
    return;
  }
  if (mode & 0o077) throw new CliError('UNSAFE_FILE', `${target} exists with mode 0${mode.toString(8)}: others could read the keys; remove it or chmod 600 it first`);
}

interface PeerRef {
  id: string;
  name: string;
  wanName: string;
}

/** A peer by id, or by name (within --wan, or the only peer of that name in any WAN). */
async function findPeer(api: Api, nameOrId: string, wanArg: string | undefined): Promise<PeerRef> {
  const wans = wanArg ? [await requireWan(api, wanArg)] : await allWans(api);
  const matches: PeerRef[] = [];
  for (const wan of wans) {
    const data = await api.query<{ wan: { peers: { edges: Array<{ node: { id: string; name: string } }> } } }>(
      `query ($id: ID!, $search: String) { wan(id: $id) { peers(first: 1000, search: $search) { edges { node { id name } } } } }`,
      { id: wan.id, search: nameOrId.slice(0, 100) },
    );
    for (const { node } of data.wan.peers.edges) if (node.name === nameOrId || node.id === nameOrId) matches.push({ ...node, wanName: wan.name });
  }
  if (!matches.length) {
    // An id matches no search; ask for it directly.
    const byId = await api.query<{ peer: { id: string; name: string; wan: { name: string } } }>(`query ($id: ID!) { peer(id: $id) { id name wan { name } } }`, { id: nameOrId }).catch(() => null);
    if (byId) return { id: byId.peer.id, name: byId.peer.name, wanName: byId.peer.wan.name };
    throw new CliError('NOT_FOUND', `peer "${nameOrId}" not found${wanArg ? ` in WAN ${wanArg}` : ''}`);
  }
  if (matches.length > 1) throw new CliError('AMBIGUOUS', `peer "${nameOrId}" is in several WANs (${matches.map((m) => m.wanName).join(', ')}): say which with --wan`);
  return matches[0]!;
}

async function allWans(api: Api): Promise<Array<{ id: string; name: string }>> {
  const data = await api.query<{ wans: { edges: Array<{ node: { id: string; name: string } }> } }>(`query { wans(first: 1000) { edges { node { id name } } } }`);
  return data.wans.edges.map(({ node }) => node);
}

interface JobResult {
  peer: string;
  jobId: string | null;
  status: string;
  error: string | null;
  operations: number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'INTERRUPTED']);

/** planDeploy, then deployPeer with that plan's hash, then the job until it ends. */
async function deploy(api: Api, peer: PeerRef, progress: (line: string) => void): Promise<JobResult> {
  const { planDeploy } = await api.mutate<{ planDeploy: { summary: string; operations: number; planHash: string; lines: string[]; preflight: Array<{ severity: string; resource: string; message: string }> } }>(
    `mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { summary operations planHash lines preflight { severity resource message } } }`,
    { peerId: peer.id },
  );
  progress(`deploy ${peer.name}: ${planDeploy.summary}`);
  for (const line of planDeploy.lines) progress(`    ${line}`);
  for (const issue of planDeploy.preflight) progress(`  preflight ${issue.severity}: ${issue.resource}: ${issue.message}`);
  const { deployPeer } = await api.mutate<{ deployPeer: { id: string } }>(
    `mutation ($peerId: ID!, $planHash: String) { deployPeer(peerId: $peerId, approve: true, planHash: $planHash) { id } }`,
    { peerId: peer.id, planHash: planDeploy.planHash },
  );
  let delay = 200;
  for (;;) {
    const { job } = await api.query<{ job: { status: string; error: string | null; progress: number } }>(`query ($id: ID!) { job(id: $id) { status error progress } }`, { id: deployPeer.id });
    if (TERMINAL.has(job.status)) return { peer: peer.name, jobId: deployPeer.id, status: job.status, error: job.error, operations: planDeploy.operations };
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 2000);
  }
}

/** apply --deploy: every peer of the WAN with a device whose configuration is stale now. */
async function deployStale(api: Api, wanName: string, progress: (line: string) => void): Promise<JobResult[]> {
  const wan = await requireWan(api, wanName);
  const data = await api.query<{ wan: { peers: { edges: Array<{ node: { id: string; name: string; configStatus: string; device: { id: string } | null } }> } } }>(
    `query ($id: ID!) { wan(id: $id) { peers(first: 1000) { edges { node { id name configStatus device { id } } } } } }`,
    { id: wan.id },
  );
  const results: JobResult[] = [];
  for (const { node } of data.wan.peers.edges) {
    if (!node.device || node.configStatus === 'CURRENT') continue;
    results.push(await deploy(api, { id: node.id, name: node.name, wanName: wan.name }, progress));
  }
  return results;
}

interface Tunnel {
  from: string;
  to: string;
  state: string;
  reason: string;
}

async function wanStatus(api: Api, wanId: string): Promise<{ tunnels: Tunnel[]; stale: string[]; peers: Array<{ name: string; online: boolean | null; lastHandshake: string | null; stale: boolean }> }> {
  const data = await api.query<{
    wan: {
      topologyGraph: { edges: Array<{ from: string; to: string; state: string; reason: string }> };
      peers: { edges: Array<{ node: { id: string; name: string; stale: boolean; status: { online: boolean; lastHandshake: string | null } | null } }> };
    };
  }>(
    `query ($id: ID!) { wan(id: $id) {
      topologyGraph { edges { from to state reason } }
      peers(first: 1000) { edges { node { id name stale status { online lastHandshake } } } }
    } }`,
    { id: wanId },
  );
  const peers = data.wan.peers.edges.map(({ node }) => node).sort((a, b) => (a.name < b.name ? -1 : 1));
  const names = new Map(peers.map((peer) => [peer.id, peer.name]));
  const tunnels = data.wan.topologyGraph.edges
    .map((edge) => {
      const [from, to] = [names.get(edge.from) ?? edge.from, names.get(edge.to) ?? edge.to].sort() as [string, string];
      return { from, to, state: edge.state, reason: edge.reason };
    })
    .sort((a, b) => (`${a.from}\0${a.to}` < `${b.from}\0${b.to}` ? -1 : 1));
  return {
    tunnels,
    stale: peers.filter((peer) => peer.stale).map((peer) => peer.name),
    peers: peers.map((peer) => ({ name: peer.name, online: peer.status?.online ?? null, lastHandshake: peer.status?.lastHandshake ?? null, stale: peer.stale })),
  };
}
