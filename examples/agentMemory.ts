/**
 * An agent's memory loop against a running Sekha service, with plain fetch (Node 20+, no dependency):
 * store a turn, carry the position it answers into the next read (so the read sees the write), and
 * assemble context for the next prompt.
 *
 *   npx tsx examples/agentMemory.ts
 *
 * SEKHA_URL (default http://127.0.0.1:8080); SEKHA_API_KEY when the service has API keys (scopes read
 * and write). Exits 1 when a step fails. It deletes its conversation at the end.
 */

const baseUrl = (process.env.SEKHA_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const apiKey = process.env.SEKHA_API_KEY;

type Role = 'user' | 'assistant' | 'system' | 'tool';
interface Message {
  role: Role;
  content: string;
}
/** A write's answer carries the log position of its events: "<txid>:<pos>". */
interface Written {
  position: string;
}
interface Conversation extends Written {
  id: string;
  message_count: number;
}
interface Appended extends Written {
  message_ids: string[];
  message_count: number;
}
interface ContextMessage extends Message {
  metadata: { tokens: number; citation: { conversation_id: string; label: string; folder: string; timestamp: string } };
}
interface AssembledContext {
  messages: ContextMessage[];
  estimated_tokens: number;
}
interface Transcript {
  messages: (Message & { id: string; seq: number })[];
}

/**
 * One request. `after` is a position a write answered: the service waits (briefly) until the tables
 * this read uses have caught up with it. Any answer but 2xx throws, with the service's error.
 */
async function sekha<T>(method: string, path: string, options: { body?: unknown; after?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  if (options.after) headers['x-sekha-position'] = options.after;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  }).catch((e: unknown) => {
    throw new Error(`${method} ${path}: cannot reach ${baseUrl} (${e instanceof Error ? (e.cause ?? e.message) : e})`);
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function main(): Promise<void> {
  // 1. The first turn of a session is stored as a conversation.
  const firstTurn: Message[] = [
    { role: 'user', content: 'My order 1042 arrived with a cracked screen.' },
    { role: 'assistant', content: 'Sorry about that. I have sent a replacement for order 1042; it ships tomorrow.' },
  ];
  const conversation = await sekha<Conversation>('POST', '/api/v1/conversations', {
    body: { label: 'Support: order 1042', folder: '/agents/example', messages: firstTurn },
  });
  console.log(`stored conversation ${conversation.id} (${conversation.message_count} messages) at position ${conversation.position}`);

  // 2. The next user message: memory for the prompt, read after our own write.
  const question = 'When will the replacement for my order arrive?';
  const context = await sekha<AssembledContext>('POST', '/api/v1/context/assemble', {
    body: { query: question, context_budget: 300 },
    after: conversation.position,
  });
  check(context.estimated_tokens <= 300, 'the context fits its budget');
  check(
    context.messages.some((m) => m.metadata.citation.conversation_id === conversation.id),
    'the assembled context includes the turn stored in step 1',
  );
  const prompt = [
    'Relevant memory:',
    ...context.messages.map((m) => `- [${m.metadata.citation.label}, ${m.metadata.citation.timestamp}] ${m.role}: ${m.content}`),
    '',
    `user: ${question}`,
  ].join('\n');
  console.log(`assembled ${context.messages.length} messages (${context.estimated_tokens} tokens) into the prompt:\n${prompt}`);

  // 3. The model's reply (a model call would go here) and the question are stored as the next turn.
  const reply = 'It ships tomorrow, so it should reach you in two to three days.';
  const appended = await sekha<Appended>('POST', `/api/v1/conversations/${conversation.id}/messages`, {
    body: {
      messages: [
        { role: 'user', content: question },
        { role: 'assistant', content: reply },
      ],
    },
  });
  console.log(`appended ${appended.message_ids.length} messages at position ${appended.position}`);

  // 4. Reading with that position sees the new turn, however busy the projectors are.
  const transcript = await sekha<Transcript>('GET', `/api/v1/conversations/${conversation.id}/messages`, { after: appended.position });
  check(transcript.messages.length === 4, `the transcript has 4 messages (it has ${transcript.messages.length})`);
  check(transcript.messages.at(-1)?.content === reply, 'the last message is the reply just stored');
  console.log(`read ${transcript.messages.length} messages back`);

  // Tidy up: an agent would keep its memory; this example should leave none behind.
  await sekha('DELETE', `/api/v1/conversations/${conversation.id}`);
  console.log('deleted the example conversation');
}

main().catch((e: unknown) => {
  console.error(`agentMemory: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
