// The router's files as rpcd's `file` object sees them: regular files with data and mode, and
// directories (explicit, plus every parent of a file). /etc/config/* and the rpcd snapshot
// directory are served from the UCI store and the apply state instead (objects/file.ts).
import type { ModelFile } from './model.js';

export interface FileEntry {
  name: string;
  type: 'file' | 'directory';
  size: number;
  mode: number;
  mtime: number;
}

/** `..` and `.` collapsed, as rpcd canonicalises paths before its ACL check. */
export function canonicalPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

export class FileStore {
  private readonly files = new Map<string, ModelFile>();
  private readonly dirs = new Set<string>(['/']);

  constructor(private readonly now: () => number) {}

  mkdir(path: string): void {
    let dir = canonicalPath(path);
    while (dir !== '/') {
      this.dirs.add(dir);
      dir = dir.slice(0, dir.lastIndexOf('/')) || '/';
    }
  }

  write(path: string, data: string, options: { mode?: number; append?: boolean } = {}): void {
    const canonical = canonicalPath(path);
    const old = this.files.get(canonical);
    this.mkdir(canonical.slice(0, canonical.lastIndexOf('/')) || '/');
    this.files.set(canonical, { data: options.append && old ? old.data + data : data, mode: options.mode ?? old?.mode ?? 0o644, mtime: this.now() });
  }

  read(path: string): ModelFile | null {
    return this.files.get(canonicalPath(path)) ?? null;
  }

  isDir(path: string): boolean {
    return this.dirs.has(canonicalPath(path));
  }

  remove(path: string): boolean {
    const canonical = canonicalPath(path);
    if (this.files.delete(canonical)) return true;
    if (this.dirs.has(canonical) && this.list(canonical)?.length === 0) return this.dirs.delete(canonical);
    return false;
  }

  /** Direct children of a directory, or null when it does not exist. */
  list(path: string): FileEntry[] | null {
    const dir = canonicalPath(path);
    if (!this.dirs.has(dir)) return null;
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const entries: FileEntry[] = [];
    for (const sub of this.dirs) {
      if (sub !== dir && sub.startsWith(prefix) && !sub.slice(prefix.length).includes('/')) entries.push({ name: sub.slice(prefix.length), type: 'directory', size: 4096, mode: 0o755, mtime: 0 });
    }
    for (const [file, entry] of this.files) {
      if (file.startsWith(prefix) && !file.slice(prefix.length).includes('/')) entries.push({ name: file.slice(prefix.length), type: 'file', size: Buffer.byteLength(entry.data), mode: entry.mode, mtime: entry.mtime });
    }
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }
}
