// `iptables -t TABLE -S` output and the commands that insert and delete rules. Meshplane's
// rules carry `-m comment --comment "<prefix>:<key>"`; iptables prints comments in double
// quotes with `\"` and `\\` escapes, which the tokenizer undoes, so a rule read back can be
// deleted with exactly the arguments iptables printed.
import { DeviceError } from '../driver.js';
import type { Family } from './names.js';

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

/** iptables for IPv4, ip6tables for IPv6: same tables, chains, options and output format. */
const BINARY: Readonly<Record<Family, string>> = { 4: 'iptables', 6: 'ip6tables' };

/** `iptables -w 5 -t TABLE -I|-D CHAIN ARGS…`: -w waits for the xtables lock instead of failing. */
export function iptablesCommand(family: Family, table: IptablesTable, action: '-I' | '-D', chain: string, args: readonly string[]): string[] {
  return [BINARY[family], '-w', '5', '-t', table, action, chain, ...args];
}

/** The command that deletes a rule exactly as `iptables -S` (or `ip6tables -S`) printed it. */
export function deleteRuleCommand(family: Family, table: IptablesTable, line: string): string[] {
  const [append, chain, ...args] = splitRuleLine(line);
  if (append !== '-A' || chain === undefined) throw new DeviceError('PROTOCOL', `not an iptables rule line: ${JSON.stringify(line)}`);
  return iptablesCommand(family, table, '-D', chain, args);
}

export function listRulesCommand(family: Family, table: IptablesTable): string[] {
  return [BINARY[family], '-w', '5', '-t', table, '-S'];
}

/**
 * A rule's id on the host: "TABLE LINE" for iptables (as always), "ip6 TABLE LINE" for
 * ip6tables, so the same line in both families stays two resources.
 */
export function ruleId(family: Family, table: IptablesTable, line: string): string {
  return family === 4 ? `${table} ${line}` : `ip6 ${table} ${line}`;
}

export function parseRuleId(id: string): { family: Family; table: IptablesTable; line: string } {
  const family: Family = id.startsWith('ip6 ') ? 6 : 4;
  const rest = family === 6 ? id.slice('ip6 '.length) : id;
  const space = rest.indexOf(' ');
  const table = rest.slice(0, space);
  if (space === -1 || (table !== 'filter' && table !== 'nat')) throw new DeviceError('PROTOCOL', `not a firewall rule id: ${JSON.stringify(id)}`);
  return { family, table, line: rest.slice(space + 1) };
}
