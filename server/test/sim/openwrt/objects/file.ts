// rpcd-mod-file: read / write / list / stat / remove / exec, each guarded by rpcd's own
// (file, <canonical path>, <read|write|list|stat|exec>) ACL. exec checks the executable first
// and only then the whole "exe arg…" line. /etc/config/<cfg> is the committed UCI package and
// /var/run/rpcd/snapshot-files the pending apply's snapshot.
import { canonicalPath, type FileEntry } from '../files.js';
import { UBUS, type OpenWrtModel, type UbusContext, type UbusObject, type UbusReply } from '../model.js';
import { runNft } from '../nft-cli.js';
import { renderUciText } from '../uci-text.js';
import { runWg, type ExecResult } from '../wg-cli.js';

/** RPC_FILE_MAX_SIZE */
export const FILE_MAX = 256 * 1024;
const SNAPSHOT_DIR = '/var/run/rpcd/snapshot-files';
const PATH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

const EXECUTABLES: Record<string, (model: OpenWrtModel, params: string[]) => ExecResult> = {
  '/usr/bin/wg': runWg,
  '/usr/sbin/nft': runNft,
};

function readVirtual(model: OpenWrtModel, path: string): string | null {
  if (path.startsWith('/etc/config/')) return model.uci.packageText(path.slice('/etc/config/'.length));
  if (path.startsWith(`${SNAPSHOT_DIR}/`)) {
    const sections = model.apply.snapshotFile(path.slice(SNAPSHOT_DIR.length + 1));
    return sections === null ? null : renderUciText(sections);
  }
  return model.files.read(path)?.data ?? null;
}

function listVirtual(model: OpenWrtModel, path: string): FileEntry[] | null {
  const now = model.clock.now();
  if (path === SNAPSHOT_DIR) {
    const names = model.apply.snapshotFileNames();
    return names === null ? null : names.map((name) => ({ name, type: 'file', size: Buffer.byteLength(readVirtual(model, `${SNAPSHOT_DIR}/${name}`) ?? ''), mode: 0o600, mtime: now }));
  }
  if (path === '/etc/config') return model.uci.packageNames().map((name) => ({ name, type: 'file', size: Buffer.byteLength(model.uci.packageText(name) ?? ''), mode: 0o600, mtime: now }));
  return model.files.list(path);
}

function statEntry(entry: FileEntry): Record<string, unknown> {
  return { type: entry.type, size: entry.size, mode: entry.mode | (entry.type === 'directory' ? 0o40000 : 0o100000), atime: entry.mtime, mtime: entry.mtime, ctime: entry.mtime, inode: 0, uid: 0, gid: 0, user: 'root', group: 'root' };
}

function guarded(perm: string, run: (ctx: UbusContext, path: string, args: Record<string, unknown>) => UbusReply) {
  return (ctx: UbusContext, args: Record<string, unknown>): UbusReply => {
    if (typeof args.path !== 'string') return { status: UBUS.INVALID_ARGUMENT };
    const path = canonicalPath(args.path);
    if (!ctx.access('file', path, perm)) return { status: UBUS.PERMISSION_DENIED };
    return run(ctx, path, args);
  };
}

function resolve(model: OpenWrtModel, command: string): string | null {
  const candidates = command.startsWith('/') ? [canonicalPath(command)] : PATH.map((dir) => `${dir}/${command}`);
  return candidates.find((path) => model.files.read(path) !== null) ?? null;
}

export function fileObject(model: OpenWrtModel): UbusObject {
  return {
    read: {
      args: { path: 'string', base64: 'boolean' },
      handler: guarded('read', (_ctx, path, args) => {
        const data = readVirtual(model, path);
        if (data === null) return { status: UBUS.NOT_FOUND };
        if (Buffer.byteLength(data) >= FILE_MAX) return { status: UBUS.NOT_SUPPORTED };
        if (data === '') return { status: UBUS.NO_DATA };
        return { status: UBUS.OK, data: { data: args.base64 === true ? Buffer.from(data).toString('base64') : data } };
      }),
    },
    write: {
      args: { path: 'string', data: 'string', append: 'boolean', mode: 'number', base64: 'boolean' },
      handler: guarded('write', (_ctx, path, args) => {
        if (typeof args.data !== 'string') return { status: UBUS.INVALID_ARGUMENT };
        const parent = path.slice(0, path.lastIndexOf('/')) || '/';
        if (!model.files.isDir(parent)) return { status: UBUS.NOT_FOUND };
        model.writes++;
        const data = args.base64 === true ? Buffer.from(args.data, 'base64').toString() : args.data;
        model.files.write(path, data, { append: args.append === true, ...(typeof args.mode === 'number' ? { mode: args.mode } : {}) });
        return { status: UBUS.OK };
      }),
    },
    list: {
      args: { path: 'string' },
      handler: guarded('list', (_ctx, path) => {
        const entries = listVirtual(model, path);
        if (entries === null) return { status: UBUS.NOT_FOUND };
        return { status: UBUS.OK, data: { entries: entries.map((entry) => ({ name: entry.name, ...statEntry(entry) })) } };
      }),
    },
    stat: {
      args: { path: 'string' },
      handler: guarded('stat', (_ctx, path) => {
        if (model.files.isDir(path) || (path === SNAPSHOT_DIR && model.apply.snapshotFileNames() !== null)) {
          return { status: UBUS.OK, data: { path, ...statEntry({ name: '', type: 'directory', size: 4096, mode: 0o755, mtime: 0 }) } };
        }
        const data = readVirtual(model, path);
        if (data === null) return { status: UBUS.NOT_FOUND };
        const file = model.files.read(path);
        return { status: UBUS.OK, data: { path, ...statEntry({ name: '', type: 'file', size: Buffer.byteLength(data), mode: file?.mode ?? 0o600, mtime: file?.mtime ?? model.clock.now() }) } };
      }),
    },
    remove: {
      args: { path: 'string' },
      handler: guarded('write', (_ctx, path) => {
        if (!model.files.remove(path)) return { status: UBUS.NOT_FOUND };
        model.writes++;
        return { status: UBUS.OK };
      }),
    },
    exec: {
      args: { command: 'string', params: 'array', env: 'object' },
      handler: (ctx, args) => {
        if (typeof args.command !== 'string') return { status: UBUS.INVALID_ARGUMENT };
        const params = Array.isArray(args.params) ? args.params : [];
        if (params.some((param) => typeof param !== 'string')) return { status: UBUS.INVALID_ARGUMENT };
        const exe = resolve(model, args.command);
        if (exe === null) return { status: UBUS.NOT_FOUND };
        if (!ctx.access('file', exe, 'exec') && !ctx.access('file', [exe, ...(params as string[])].join(' '), 'exec')) return { status: UBUS.PERMISSION_DENIED };
        const run = EXECUTABLES[exe];
        const result = run ? run(model, params as string[]) : { code: 0, stdout: '', stderr: '' };
        if (Buffer.byteLength(result.stdout) >= FILE_MAX || Buffer.byteLength(result.stderr) >= FILE_MAX) return { status: UBUS.NOT_SUPPORTED };
        const data: Record<string, unknown> = { code: result.code };
        if (result.stdout !== '') data.stdout = result.stdout;
        if (result.stderr !== '') data.stderr = result.stderr;
        return { status: UBUS.OK, data };
      },
    },
  };
}
