// The /alerts form's "Tell me when…" preview is the sentence the server stores as the rule's
// description (domain/alerts.ts describeRule), for every kind, scope and a few minutes.
import { describe, expect, it } from 'vitest';
import { ALERT_KINDS, describeRule } from '../../../server/src/domain/alerts.js';
import { rulePreview } from '../../src/routes/(app)/alerts/rule-text.js';

describe('alert rule preview', () => {
  it('says what the server will describe, for every kind, scope and minutes', () => {
    const scopes = [
      { wanName: null, deviceName: null },
      { wanName: 'hq-mesh', deviceName: null },
      { wanName: null, deviceName: 'edge-1' },
    ];
    let compared = 0;
    for (const kind of ALERT_KINDS) {
      for (const minutes of [1, 5, 10_080]) {
        for (const scope of scopes) {
          // Only a "device unreachable" rule watches one device (the form shows the device field for it alone).
          if (scope.deviceName !== null && kind !== 'DEVICE_UNREACHABLE') continue;
          expect(rulePreview(kind, minutes, scope.wanName, scope.deviceName)).toBe(describeRule({ kind, minutes }, scope));
          compared++;
        }
      }
    }
    expect(compared).toBe(21);
  });
});
