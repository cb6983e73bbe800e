// A CommandRunner that records commands and answers from a script, for driver tests that
// need no root.
import { DeviceError } from '../../driver.js';
import type { CommandOutput, CommandRunner } from '../exec.js';

export type Answer = string | DeviceError | ((argv: readonly string[]) => string);

export class FakeRunner implements CommandRunner {
  readonly netns: string | null = null;
  readonly commands: string[][] = [];

  /** `answers` maps a command prefix ("wg show interfaces") to its stdout or failure. */
  constructor(private readonly answers: ReadonlyArray<readonly [string, Answer]> = []) {}

  async run(argv: readonly string[]): Promise<CommandOutput> {
    this.commands.push([...argv]);
    const line = argv.join(' ');
    const match = this.answers.find(([prefix]) => line.startsWith(prefix));
    const answer = match?.[1] ?? '';
    if (answer instanceof DeviceError) throw answer;
    return { stdout: typeof answer === 'function' ? answer(argv) : answer, stderr: '' };
  }
}
