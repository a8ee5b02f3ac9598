import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import type { NewMessage } from '../domain/conversation/index.js';
import type { messageSchema } from '../http/schemas.js';

type MessageInput = z.infer<ReturnType<typeof messageSchema>>;

/** Gives incoming messages ids and times (the command's time when the client sent none). */
export const toNewMessages = (messages: MessageInput[], at: string): NewMessage[] =>
  messages.map((m) => ({
    id: randomUUID(),
    role: m.role,
    ...(m.name != null ? { name: m.name } : {}),
    content: m.content,
    timestamp: m.timestamp ? new Date(m.timestamp).toISOString() : at,
    metadata: m.metadata ?? {},
  }));
