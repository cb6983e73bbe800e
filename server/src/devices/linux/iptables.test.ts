import { describe, expect, it } from 'vitest';
import { deleteRuleCommand, parseIptablesRules, splitRuleLine } from './iptables.js';

// Recorded from iptables v1.8.9 (nf_tables), Debian 12.
const NAT = `-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A PREROUTING -d 10.0.5.1/32 -i mpxt0 -p tcp -m tcp --dport 80 -m comment --comment "with space \\"q\\"" -j DNAT --to-destination 192.168.1.10:8080
-A PREROUTING -d 172.16.0.0/24 -i mpxt0 -m comment --comment "meshplane:mpxt0/netmap-in@ab" -j NETMAP --to 192.168.1.0/24
`;

describe('iptables -S', () => {
  it('splits lines with quoted, escaped comments', () => {
    expect(splitRuleLine('-A X -m comment --comment "a \\"b\\" \\\\ c" -j ACCEPT')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a "b" \\ c', '-j', 'ACCEPT']);
    expect(splitRuleLine('-A X --comment ""')).toEqual(['-A', 'X', '--comment', '']);
    expect(() => splitRuleLine('-A X --comment "open')).toThrow(/unbalanced/);
  });

  it('reads rules with their chain, arguments and comment, skipping policies', () => {
    const rules = parseIptablesRules('nat', NAT);
    expect(rules.map((rule) => [rule.chain, rule.comment])).toEqual([
      ['PREROUTING', 'with space "q"'],
      ['PREROUTING', 'meshplane:mpxt0/netmap-in@ab'],
    ]);
    expect(rules[1]!.args).toEqual(['-d', '172.16.0.0/24', '-i', 'mpxt0', '-m', 'comment', '--comment', 'meshplane:mpxt0/netmap-in@ab', '-j', 'NETMAP', '--to', '192.168.1.0/24']);
  });

  it('deletes a rule with exactly the arguments iptables printed', () => {
    const rule = parseIptablesRules('nat', NAT)[0]!;
    expect(deleteRuleCommand(4, 'nat', rule.line)).toEqual([
      'iptables', '-w', '5', '-t', 'nat', '-D', 'PREROUTING', '-d', '10.0.5.1/32', '-i', 'mpxt0', '-p', 'tcp', '-m', 'tcp', '--dport', '80',
      '-m', 'comment', '--comment', 'with space "q"', '-j', 'DNAT', '--to-destination', '192.168.1.10:8080',
    ]);
    expect(() => deleteRuleCommand(4, 'nat', '-P INPUT ACCEPT')).toThrow(/not an iptables rule/);
  });
});
