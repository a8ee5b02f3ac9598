/** One Server-Sent Event. */
export interface SseMessage {
  event?: string;
  id?: string;
  data: string;
}

/** Formats a message as SSE lines; every line of `data` gets its own `data:` field. */
export function formatSse(message: SseMessage): string {
  for (const field of [message.event, message.id]) {
    if (field !== undefined && /[\r\n]/.test(field)) throw new Error('SSE event and id must be one line');
  }
  const lines: string[] = [];
  if (message.event) lines.push(`event: ${message.event}`);
  if (message.id !== undefined) lines.push(`id: ${message.id}`);
  for (const line of message.data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  return `${lines.join('\n')}\n\n`;
}

export interface SseChannelOptions {
  /** Bytes queued for the client beyond which a write waits (the kernel and the socket buffer more). */
  bufferBytes: number;
  /** How long a write may wait for the client to read before the client counts as too slow. */
  slowClientMs: number;
}

/**
 * A text/event-stream body with a bounded queue. `send` resolves `'sent'` once the message is queued,
 * `'slow'` when the queue stayed full for `slowClientMs` (nothing queued: the caller ends the stream
 * with `end`, which queues one last message past the bound), or `'closed'` when the client is gone.
 */
export interface SseChannel {
  readonly body: ReadableStream<Uint8Array>;
  readonly closed: boolean;
  send(message: SseMessage): Promise<'sent' | 'slow' | 'closed'>;
  /** A comment line (heartbeat); skipped while the queue is full. */
  comment(text: string): void;
  /** Resolves when the stream is over: the client left, or `end` was called. */
  readonly finished: Promise<void>;
  /** Queues `last` (if any) and closes the stream. */
  end(last?: SseMessage): void;
}

export function createSseChannel(options: SseChannelOptions): SseChannel {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let onFinished!: () => void;
  const finished = new Promise<void>((resolve) => (onFinished = resolve));
  // Woken when the client reads (pull) or leaves (cancel).
  let readers: (() => void)[] = [];
  const wakeWriters = () => {
    const waiting = readers;
    readers = [];
    for (const w of waiting) w();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        wakeWriters();
      },
      cancel() {
        closed = true;
        onFinished();
        wakeWriters();
      },
    },
    { highWaterMark: options.bufferBytes, size: (chunk) => chunk.byteLength },
  );
  const full = () => (controller.desiredSize ?? 0) <= 0;
  const waitForRoom = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      readers.push(done);
    });

  return {
    body,
    get closed() {
      return closed;
    },
    finished,
    async send(message) {
      const deadline = Date.now() + options.slowClientMs;
      while (!closed && full()) {
        const left = deadline - Date.now();
        if (left <= 0) return 'slow';
        await waitForRoom(left);
      }
      if (closed) return 'closed';
      controller.enqueue(encoder.encode(formatSse(message)));
      return 'sent';
    },
    comment(text) {
      if (closed || full()) return;
      controller.enqueue(encoder.encode(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`));
    },
    end(last) {
      if (closed) return;
      closed = true;
      if (last) controller.enqueue(encoder.encode(formatSse(last)));
      controller.close();
      onFinished();
      wakeWriters();
    },
  };
}
