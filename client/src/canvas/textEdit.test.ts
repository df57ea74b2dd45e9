import { describe, expect, it } from 'vitest';
import { MAX_TEXT_BYTES } from '../lib/types';
import { clipText } from './textEdit';

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe('clipText', () => {
  it('drops NULs and keeps short text', () => {
    expect(clipText('a\0b\nc')).toBe('ab\nc');
  });
  it('cuts to the byte bound at a whole code point', () => {
    const t = clipText('é'.repeat(3000));
    expect(bytes(t)).toBe(MAX_TEXT_BYTES);
    const emoji = clipText('a' + '😀'.repeat(2000));
    expect(bytes(emoji)).toBeLessThanOrEqual(MAX_TEXT_BYTES);
    expect(bytes(emoji)).toBe(1 + 4 * 1023);
    expect(emoji.endsWith('😀')).toBe(true);
  });
});
