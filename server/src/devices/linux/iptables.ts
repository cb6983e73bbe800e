// `iptables -t TABLE -S` output and the commands that insert and delete rules. Meshplane's
// rules carry `-m comment --comment "<prefix>:<key>"`; iptables prints comments in double
// quotes with `\"` and `\\` escapes, which the tokenizer undoes, so a rule read back can be
// deleted with exactly the arguments iptables printed.
import { DeviceError } from '../driver.js';

export type IptablesTable = 'filter' | 'nat';

export interface IptablesRule {
  table: IptablesTable;
  chain: string;
  /** The line as printed ("-A FORWARD -i wg0 … -j ACCEPT"): the rule's identity on the device. */
  line: string;
  /** Everything after the chain name, unquoted. */
  args: string[];
  comment: string | null;
}

/** Splits one `iptables -S` line into arguments (double quotes, backslash escapes). */
export function splitRuleLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quoted) {
      if (char === '\\' && i + 1 < line.length) current += line[++i];
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      inToken = true;
    } else if (char === ' ' || char === '\t') {
      if (inToken) args.push(current);
      current = '';
      inToken = false;
    } else {
      current += char;
      inToken = true;
    }
  }
  if (quoted) throw new DeviceError('PROTOCOL', `iptables -S: unbalanced quote in ${JSON.stringify(line)}`);
  if (inToken) args.push(current);
  return args;
}

export function parseIptablesRules(table: IptablesTable, text: string): IptablesRule[] {
  const rules: IptablesRule[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('-A ')) continue; // policies (-P) and chain declarations (-N)
    const [, chain, ...args] = splitRuleLine(line);
    if (chain === undefined) throw new DeviceError('PROTOCOL', `iptables -S: rule without a chain: ${JSON.stringify(line)}`);
    const at = args.indexOf('--comment');
    rules.push({ table, chain, line, args, comment: at === -1 ? null : args[at + 1] ?? null });
  }
  return rules;
}

/** `iptables -w 5 -t TABLE -I|-D CHAIN ARGS…`: -w waits for the xtables lock instead of failing. */
export function iptablesCommand(table: IptablesTable, action: '-I' | '-D', chain: string, args: readonly string[]): string[] {
  return ['iptables', '-w', '5', '-t', table, action, chain, ...args];
}

/** The command that deletes a rule exactly as `iptables -S` printed it. */
export function deleteRuleCommand(table: IptablesTable, line: string): string[] {
  const [append, chain, ...args] = splitRuleLine(line);
  if (append !== '-A' || chain === undefined) throw new DeviceError('PROTOCOL', `not an iptables rule line: ${JSON.stringify(line)}`);
  return iptablesCommand(table, '-D', chain, args);
}

export function listRulesCommand(table: IptablesTable): string[] {
  return ['iptables', '-w', '5', '-t', table, '-S'];
}
