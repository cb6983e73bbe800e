// The argument cases every standalone simulator's main.test.ts checks the same way: --help prints
// its usage and options and exits 0 without listening; a refused argument exits non-zero with
// its message on stderr and never listens.
import { expect, it } from 'vitest';
import { runMain } from './spawn-main.js';

export function itPrintsHelp(main: string, usage: RegExp, options: string[]): void {
  it('--help prints the options and exits 0 without listening', async () => {
    const { code, stdout } = await runMain(main, ['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(usage);
    for (const option of options) expect(stdout).toContain(option);
    expect(stdout).not.toContain('simulator on');
  });
}

export function itRefusesArguments(main: string, cases: Array<[string[], string]>): void {
  it.each(cases)('refuses %j with a message and a non-zero exit', async (args, message) => {
    const { code, stdout, stderr } = await runMain(main, args);
    expect(code).not.toBe(0);
    expect(stderr).toContain(message);
    expect(stdout).not.toContain('simulator on');
  });
}
