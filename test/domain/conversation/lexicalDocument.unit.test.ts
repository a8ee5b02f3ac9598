import { describe, expect, it } from 'vitest';
import { dayInWords, embeddedText, lexicalDocument } from '../../../src/domain/conversation/index.js';

describe('lexicalDocument', () => {
  it('holds the name, the text and the day in words (UTC)', () => {
    expect(lexicalDocument({ name: 'Caroline', text: 'I went to a support group', timestamp: '2023-05-08T23:30:00-02:00' })).toBe('Caroline\nI went to a support group\n9 May 2023');
  });
  it('is the text and day alone without a name, and skips an unreadable time', () => {
    expect(lexicalDocument({ text: 'hello', timestamp: '2024-01-01T00:00:00Z' })).toBe('hello\n1 January 2024');
    expect(dayInWords('not a time')).toBe('');
  });
  it('embeds "name: text" when the message is named', () => {
    expect(embeddedText('Jon', 'hi')).toBe('Jon: hi');
    expect(embeddedText(null, 'hi')).toBe('hi');
  });
});
