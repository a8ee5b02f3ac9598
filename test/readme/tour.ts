import { parseShownAnswer, type ShownAnswer } from './shownAnswer.js';

export const TOUR_HEADING = '## A five-minute tour';
/** The base URL the README's commands use; the test substitutes its own. */
export const README_BASE_URL = 'http://127.0.0.1:8080';

/** One `sh` block of the tour, and the answer shown after it when it sends a request. */
export interface TourStep {
  /** 1-based, for messages. */
  index: number;
  command: string;
  answer?: ShownAnswer;
}

export interface Tour {
  /** The section's markdown, heading included. */
  text: string;
  steps: TourStep[];
  /** Link targets of the section: `[text](target)`. */
  links: string[];
}

/**
 * The tour section of README.md: every `sh` block in order; a block that runs `curl` sends exactly one
 * request and is followed by a `jsonc` block with the answer it shows.
 */
export function readTour(readme: string): Tour {
  const start = readme.indexOf(`\n${TOUR_HEADING}\n`);
  if (start < 0) throw new Error(`README.md has no "${TOUR_HEADING}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start + 1, end < 0 ? undefined : end);
  const fences = [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
  const steps: TourStep[] = [];
  fences.forEach((fence, i) => {
    if (fence.lang === 'jsonc') {
      if (fences[i - 1]?.lang !== 'sh') throw new Error(`a shown answer follows no command: ${fence.body.slice(0, 80)}`);
      return;
    }
    if (fence.lang !== 'sh') throw new Error(`the tour has a \`\`\`${fence.lang} block; it uses sh (commands) and jsonc (answers)`);
    const requests = fence.body.match(/\bcurl\b/g)?.length ?? 0;
    if (requests > 1) throw new Error(`one request per block, so each answer can be checked: ${fence.body}`);
    const next = fences[i + 1];
    if (requests === 1 && next?.lang !== 'jsonc') throw new Error(`a request without a shown answer: ${fence.body}`);
    steps.push({ index: steps.length + 1, command: fence.body, ...(requests === 1 ? { answer: parseShownAnswer(next!.body) } : {}) });
  });
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  return { text, steps, links };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export const headingAnchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The anchors of every `#`-heading of a markdown text. */
export const headingAnchors = (markdown: string): Set<string> =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1]!)));

/**
 * One bash script running the steps in order, each after a marker line, with `curl` wrapped to keep each
 * step's response headers in `$TOUR_DIR/headers-<step>` (the status is not part of what the README prints).
 */
export function tourScript(steps: readonly TourStep[], baseUrl: string): string {
  const lines = ['set -eu', 'curl() { command curl -D "$TOUR_DIR/headers-$TOUR_STEP" "$@"; }'];
  for (const step of steps) {
    lines.push(`TOUR_STEP=${step.index}`, `printf '\\n${stepMarker(step.index)}\\n'`, step.command.replaceAll(README_BASE_URL, baseUrl));
  }
  return `${lines.join('\n')}\n`;
}

export const stepMarker = (index: number) => `@@tour-step ${index}@@`;

/** What each step printed, by step index. */
export function outputsByStep(stdout: string): Map<number, string> {
  const parts = stdout.split(/\n@@tour-step (\d+)@@\n/);
  const outputs = new Map<number, string>();
  for (let i = 1; i < parts.length; i += 2) outputs.set(Number(parts[i]), parts[i + 1]!.trim());
  return outputs;
}

/** The status of the last response in a `curl -D` header dump. */
export function lastStatus(headers: string): number | undefined {
  const statuses = [...headers.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
  return statuses.length ? Number(statuses.at(-1)![1]) : undefined;
}
