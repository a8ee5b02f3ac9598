import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactEvent, type ConversationEvent } from '../../../src/domain/conversation/index.js';

const A = '00000000-0000-4000-8000-00000000000a';
const M = '10000000-0000-4000-8000-000000000001';
const at = { conversation_id: A, at: '2025-01-01T00:00:00.000Z' };
const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

describe('redactEvent', () => {
  it('replaces message content, name and metadata by the marker and a SHA-256 of what was removed', () => {
    const event: ConversationEvent = {
      type: 'MessagesAppended',
      data: { ...at, messages: [{ id: M, seq: 1, role: 'user', name: 'Ada Lovelace', content: 'my secret', timestamp: at.at, metadata: { k: 1 } }] },
    };
    const redacted = redactEvent(event);
    expect(redacted).toEqual({
      type: 'MessagesAppended',
      data: { ...at, messages: [{ id: M, seq: 1, role: 'user', content: REDACTED, timestamp: at.at, metadata: {}, redacted: { sha256: sha256({ content: 'my secret', metadata: { k: 1 }, name: 'Ada Lovelace' }) } }] },
    });
    expect(JSON.stringify(redacted)).not.toMatch(/secret|Lovelace/);
  });

  it('redacts the conversation metadata and summaries, and keeps facts', () => {
    expect(redactEvent({ type: 'ConversationStarted', data: { ...at, label: 'l', folder: '/f', importance_score: 5, metadata: { who: 'me' } } }).data).toEqual({
      ...at, label: 'l', folder: '/f', importance_score: 5, metadata: { redacted: { sha256: sha256({ who: 'me' }) } },
    });
    const summary: ConversationEvent = {
      type: 'SummaryGenerated',
      data: { ...at, summary_id: 's', level: 'daily', summary: 'the secret plan', model: 'm', period_start: at.at, period_end: at.at, source_count: 2 },
    };
    expect(redactEvent(summary).data).toMatchObject({ summary: REDACTED, source_count: 2 });
    const labeled: ConversationEvent = { type: 'ConversationLabeled', data: { ...at, label: 'kept' } };
    expect(redactEvent(labeled)).toBe(labeled);
  });

  it('is idempotent: an event with nothing left to redact comes back as itself', () => {
    const events: ConversationEvent[] = [
      { type: 'MessagesAppended', data: { ...at, messages: [{ id: M, seq: 1, role: 'user', content: 'x', timestamp: at.at, metadata: {} }] } },
      { type: 'ConversationStarted', data: { ...at, label: 'l', folder: '/f', importance_score: 5, metadata: { a: 1 } } },
      { type: 'SummaryGenerated', data: { ...at, summary_id: 's', level: 'weekly', summary: 'x', model: 'm', period_start: at.at, period_end: at.at, source_count: 1 } },
    ];
    for (const event of events) {
      const once = redactEvent(event);
      expect(once).not.toBe(event);
      expect(redactEvent(once)).toBe(once);
    }
  });
});
