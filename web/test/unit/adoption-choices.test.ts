// What the adoption pages send: only the choices made for known options, only changed names and
// roles; adopting waits while a guess has no answer.
import { describe, expect, it } from 'vitest';
import { readAdoptLog } from '../../src/lib/components/adoption/adopt-log.js';
import { adoptAnswers, choicesMissing } from '../../src/lib/components/adoption/choices.js';

const issues = [
  { id: 'i1', needsChoice: true, options: [{ id: 'keep' }, { id: 'drop' }] },
  { id: 'i2', needsChoice: false, options: [{ id: 'ok' }] },
  { id: 'i3', needsChoice: true, options: [{ id: 'a' }, { id: 'b' }] },
];
const peers = [
  { id: 'key:A', name: 'branch-a', role: 'SITE' as const },
  { id: 'key:B', name: 'branch-b', role: 'SITE' as const },
];

describe('adoption answers', () => {
  it('waits for every guess, and only for answers among its options', () => {
    expect(choicesMissing(issues, {}).map((issue) => issue.id)).toEqual(['i1', 'i3']);
    expect(choicesMissing(issues, { i1: 'drop', i3: 'c' }).map((issue) => issue.id)).toEqual(['i3']);
    expect(choicesMissing(issues, { i1: 'drop', i3: 'a' })).toEqual([]);
  });

  it('sends the chosen options and the names and roles that changed, trimmed', () => {
    const answers = adoptAnswers({ issues, peers }, { i1: 'drop', i2: 'ok', i3: 'zzz' }, {
      'key:A': { name: ' branch-a ', role: 'SITE' },
      'key:B': { name: 'shop', role: 'HUB' },
    });
    expect(answers).toEqual({
      choices: [{ issueId: 'i1', optionId: 'drop' }, { issueId: 'i2', optionId: 'ok' }],
      peers: [{ id: 'key:B', name: 'shop', role: 'HUB' }],
    });
    expect(adoptAnswers({ issues, peers }, {}, { 'key:A': { name: '' } })).toEqual({ choices: [], peers: [] });
  });
});

describe('the ADOPT job log', () => {
  it('sorts what the job says into taken over, look-alikes, left alone and what a deploy would still do', () => {
    const log = [
      '2026-12-07T01:43:10.000Z reading the device',
      "2026-12-07T01:43:10.100Z adopted: WireGuard peer branch-a on wg-office",
      '2026-12-07T01:43:10.200Z not adopted, ambiguous: route 192.168.20.0/24 looks like 2 hand-made items (*5, *6); remove or rename all but one, then adopt again',
      "2026-12-07T01:43:10.300Z left alone (not Meshplane's): WireGuard interface wg-other",
      '2026-12-07T01:43:10.400Z left alone: 12 more unmanaged items',
      '2026-12-07T01:43:10.500Z a deploy would create firewall rule wg-office input',
    ].join('\n');
    expect(readAdoptLog(log)).toEqual({
      adopted: ['WireGuard peer branch-a on wg-office'],
      ambiguous: ['route 192.168.20.0/24 looks like 2 hand-made items (*5, *6); remove or rename all but one, then adopt again'],
      leftAlone: ['WireGuard interface wg-other', '12 more unmanaged items'],
      deployWould: ['create firewall rule wg-office input'],
    });
  });
});
