import { describe, expect, it } from 'vitest';
import {
  auditTagKey,
  auditTrail,
  decodeAudit,
  encodeAudit,
  holderChain,
  randomSuffix,
  rollbackTarget,
  type AuditEvent,
} from '../../src/core/registry/audit.js';

const ev = (
  action: 'promote' | 'rollback',
  version: string,
  previous: string | null,
  target = 'production',
): AuditEvent => ({
  action,
  target,
  kind: 'alias',
  version,
  previous,
  by: 'alice',
  at: '2026-01-02T03:04:05.123Z',
});

describe('audit record format', () => {
  it('keys sort by time and carry a random suffix', () => {
    expect(auditTagKey(new Date('2026-01-02T03:04:05.123Z'), 'k3f9')).toBe('mlv.audit.20260102T030405123Z.k3f9');
    expect(randomSuffix(() => 0)).toBe('aaaa');
    expect(randomSuffix(() => 0.999999)).toBe('9999');
  });

  it('round-trips through JSON with exactly these fields', () => {
    const e: AuditEvent = { ...ev('promote', '3', '2'), semver: '1.1.0', note: 'auc>=0.88' };
    expect(encodeAudit(e)).toBe(
      '{"action":"promote","target":"production","kind":"alias","version":"3","previous":"2","by":"alice","at":"2026-01-02T03:04:05.123Z","semver":"1.1.0","note":"auc>=0.88"}',
    );
    expect(decodeAudit('mlv.audit.20260102T030405123Z.k3f9', encodeAudit(e))).toEqual(e);
  });

  it.each([
    ['other.tag', '{}'],
    ['mlv.audit.x', 'not json'],
    ['mlv.audit.x', '{"action":"delete","kind":"alias","target":"p","version":"1","at":"t"}'],
    ['mlv.audit.x', '{"action":"promote","kind":"alias","target":"p","version":1,"at":"t"}'],
    ['mlv.audit.x', 'null'],
  ])('skips %s=%s', (key, value) => {
    expect(decodeAudit(key, value)).toBeUndefined();
  });

  it('auditTrail reads events among other tags, oldest first', () => {
    const tags = [
      { key: 'mlv.audit.20260102T000000000Z.bbbb', value: encodeAudit(ev('promote', '2', '1')) },
      { key: 'owner', value: 'team-a' },
      { key: 'mlv.audit.20260101T000000000Z.aaaa', value: encodeAudit(ev('promote', '1', null)) },
    ];
    expect(auditTrail(tags).map((e) => [e.key, e.version])).toEqual([
      ['mlv.audit.20260101T000000000Z.aaaa', '1'],
      ['mlv.audit.20260102T000000000Z.bbbb', '2'],
    ]);
  });
});

describe('holderChain and rollbackTarget', () => {
  it.each([
    ['nothing recorded', [], undefined, []],
    ['one promotion from nobody', [ev('promote', '1', null)], '1', ['1']],
    ['first promotion over an existing holder', [ev('promote', '2', '1')], '2', ['1', '2']],
    [
      'three promotions',
      [ev('promote', '1', null), ev('promote', '2', '1'), ev('promote', '3', '2')],
      '3',
      ['1', '2', '3'],
    ],
    [
      'promotion then rollback',
      [ev('promote', '1', null), ev('promote', '2', '1'), ev('promote', '3', '2'), ev('rollback', '2', '3')],
      '2',
      ['1', '2'],
    ],
    [
      'two rollbacks walk further back',
      [
        ev('promote', '1', null),
        ev('promote', '2', '1'),
        ev('promote', '3', '2'),
        ev('rollback', '2', '3'),
        ev('rollback', '1', '2'),
      ],
      '1',
      ['1'],
    ],
    [
      'rollback --to an older version',
      [ev('promote', '1', null), ev('promote', '2', '1'), ev('promote', '3', '2'), ev('rollback', '1', '3')],
      '1',
      ['1', '2', '1'],
    ],
    ['alias moved outside mlv (2 → 5)', [ev('promote', '2', '1'), ev('promote', '6', '5')], '6', ['1', '2', '5', '6']],
    ['re-promoting the holder changes nothing', [ev('promote', '2', '1'), ev('promote', '2', '2')], '2', ['1', '2']],
  ] as const)('%s', (_label, events, _current, chain) => {
    expect(holderChain(events)).toEqual(chain);
  });

  it.each([
    ['nothing recorded', [], '3', undefined],
    [
      'back to the previous holder',
      [ev('promote', '1', null), ev('promote', '2', '1'), ev('promote', '3', '2')],
      '3',
      '2',
    ],
    [
      'second rollback goes one further',
      [ev('promote', '1', null), ev('promote', '2', '1'), ev('promote', '3', '2'), ev('rollback', '2', '3')],
      '2',
      '1',
    ],
    ['nothing before the first holder', [ev('promote', '1', null)], '1', undefined],
    [
      'moved outside mlv: back to the last recorded holder',
      [ev('promote', '1', null), ev('promote', '2', '1')],
      '7',
      '2',
    ],
    [
      'only events of the same target count',
      [ev('promote', '1', null), ev('promote', '2', '1'), ev('promote', '9', '8', 'staging')],
      '2',
      '1',
    ],
    ['alias deleted (no holder now)', [ev('promote', '1', null), ev('promote', '2', '1')], undefined, '2'],
  ] as const)('%s', (_label, events, current, expected) => {
    expect(rollbackTarget(events, 'production', 'alias', current)).toBe(expected);
  });

  it('stage and alias trails with the same name are separate', () => {
    const stageEvent: AuditEvent = { ...ev('promote', '5', '4'), kind: 'stage', target: 'production' };
    expect(rollbackTarget([ev('promote', '2', '1'), stageEvent], 'production', 'alias', '2')).toBe('1');
    expect(rollbackTarget([ev('promote', '2', '1'), stageEvent], 'production', 'stage', '5')).toBe('4');
  });
});
