import { describe, expect, it } from 'vitest';
import { groupDigits } from '../../src/core/format.js';

describe('groupDigits', () => {
  // Expected values: Node's n.toLocaleString('en-US') (ICU), which groupDigits replaces.
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [12345, '12,345'],
    [999999, '999,999'],
    [1000000, '1,000,000'],
    [1234567890, '1,234,567,890'],
    [-1, '-1'],
    [-1234, '-1,234'],
    [-0, '-0'],
    [Number.MAX_SAFE_INTEGER, '9,007,199,254,740,991'],
    [1234.5, '1,234.5'],
  ])('%d → %s', (n, text) => {
    expect(groupDigits(n)).toBe(text);
    expect(n.toLocaleString('en-US')).toBe(text);
  });
});
