import { describe, expect, it } from 'vitest';
import { mismatches, parseShownAnswer } from './shownAnswer.js';
import { headingAnchor, lastStatus, outputsByStep, readTour, tourScript } from './tour.js';

const shown = (text: string) => parseShownAnswer(text).body;

describe('shown answers', () => {
  it('reads the status line and "…" as trimmed fields, elements and text', () => {
    const answer = parseShownAnswer(
      [
        '// 201 Created',
        '{',
        '  "id": "80077096-a14a-421b-88e9-7271fddb765f",',
        '  "message_count": 2,',
        '  …',
        '  "results": [{ "content": "Book a table…", … }, …],',
        '  "score": 0.5',
        '}',
      ].join('\n'),
    );
    expect(answer.status).toBe(201);
    const actual = {
      id: 'c4a1d7a8-0d2e-4a5c-9a6f-3a1b2c3d4e5f',
      message_count: 2,
      extra: true,
      results: [{ content: 'Book a table for two', role: 'user' }, { content: 'more' }],
      score: 0.123,
    };
    expect(mismatches(answer.body, actual)).toEqual([]);
  });

  it('names every field that stopped matching', () => {
    const expected = shown('// 200\n{ "position": "797:6", "label": "Trip", "count": 2, "items": [1], "at": "2026-12-01T02:03:52.455Z" }');
    expect(mismatches(expected, { position: 'x', label: 'Trip!', count: 3, items: [1, 2] })).toEqual([
      '$.position: expected a position, got "x"',
      '$.label: expected "Trip", got "Trip!"',
      '$.count: expected 2, got 3',
      '$.items: expected 1 elements, got 2',
      '$.at: missing',
    ]);
    expect(mismatches(shown('// 200\n[{ "a": 1 }, …]'), [])).toEqual(['$: expected at least 1 elements, got 0']);
  });

  it('refuses an answer without a status line or that is not JSON once read', () => {
    expect(() => parseShownAnswer('{ "a": 1 }')).toThrow(/starts with "\/\/ <status>"/);
    expect(() => parseShownAnswer('// 200\n{ "a": }')).toThrow(/not JSON/);
  });
});

describe('the tour section', () => {
  const readme = (body: string) => `# X\n\n## A five-minute tour\n${body}\n## Next section\n\`\`\`sh\ncurl nope\n\`\`\`\n`;

  it('pairs each request with the answer after it and leaves the rest of the README alone', () => {
    const tour = readTour(readme('```sh\nS=http://127.0.0.1:8080\n```\nSee [docs](#next-section).\n```sh\ncurl -s "$S/health"; echo\n```\n```jsonc\n// 200 OK\n{ "status": "healthy" }\n```\n'));
    expect(tour.steps).toEqual([
      { index: 1, command: 'S=http://127.0.0.1:8080\n' },
      { index: 2, command: 'curl -s "$S/health"; echo\n', answer: { status: 200, body: { status: 'healthy' } } },
    ]);
    expect(tour.links).toEqual(['#next-section']);
    expect(tourScript(tour.steps, 'http://127.0.0.1:5')).toContain('S=http://127.0.0.1:5\n');
  });

  it('refuses two requests in one block and a request without a shown answer', () => {
    expect(() => readTour(readme('```sh\ncurl a; curl b\n```\n```jsonc\n// 200\n{}\n```\n'))).toThrow(/one request per block/);
    expect(() => readTour(readme('```sh\ncurl a\n```\n'))).toThrow(/without a shown answer/);
  });

  it('splits the output by step, reads the last status of a header dump, and makes GitHub anchors', () => {
    expect(outputsByStep('\n@@tour-step 1@@\n{"a":1}\n\n@@tour-step 2@@\n\n@@tour-step 3@@\n{}\n')).toEqual(
      new Map([
        [1, '{"a":1}'],
        [2, ''],
        [3, '{}'],
      ]),
    );
    expect(lastStatus('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nx: y\r\n')).toBe(201);
    expect(headingAnchor('Memory features (`src/memory/`)')).toBe('memory-features-srcmemory');
  });
});
