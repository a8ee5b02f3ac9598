import type { z } from '@hono/zod-openapi';
import type { NewMessage } from '../domain/conversation/index.js';
import type { messageSchema } from '../http/schemas.js';
import { timeOrderedUuid } from '../eventstore/index.js';

type MessageInput = z.infer<ReturnType<typeof messageSchema>>;

/**
 * Gives incoming messages ids and times (the command's time when the client sent none). The ids are
 * time-ordered, so the read model's and the lexical index's primary keys on them grow at their right edge.
 */
export const toNewMessages = (messages: MessageInput[], at: string): NewMessage[] =>
  messages.map((m) => ({
    id: timeOrderedUuid(),
    role: m.role,
    ...(m.name != null ? { name: m.name } : {}),
    content: m.content,
    timestamp: m.timestamp ? new Date(m.timestamp).toISOString() : at,
    metadata: m.metadata ?? {},
  }));
