import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/state/bounded-map.js';

describe('BoundedMap', () => {
  it('keeps at most max entries, forgetting the one set longest ago (setting again makes a key the newest)', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...m.entries()]).toEqual([['a', 3], ['c', 4]]);
    expect(m.size).toBe(2);
  });
});
