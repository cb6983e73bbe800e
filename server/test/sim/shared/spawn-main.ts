// Runs a standalone simulator (main.ts) as a user does, through tsx in a child process, for
// the tests of routeros/main.ts and pfsense/main.ts.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunningMain {
  child: ChildProcess;
  /** stdout up to and including `readyText`; rejects if the process exits first. */
  banner: Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function spawnMain(main: string, args: string[], readyText: string): RunningMain {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const banner = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(readyText)) resolve(out);
    });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void exited.then((code) => reject(new Error(`${main} exited with ${code} before listening: ${err}`)));
  });
  return { child, banner, exited };
}

/** Runs main.ts to completion (for --help and refused arguments): exit code and output. */
export async function runMain(main: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}
