// What the adoption pages send: only the choices made for known options, only changed names and
// roles; adopting waits while a guess has no answer.
import { describe, expect, it } from 'vitest';
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
