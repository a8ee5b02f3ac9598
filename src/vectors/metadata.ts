/** Attributes of a conversation that every one of its vectors carries, for `where` filters. */
export interface ConversationAttributes {
  label: string;
  folder: string;
  status: 'active' | 'archived';
  pinned: boolean;
  importance: number;
}

/** Folder ancestors are stored one key per depth (`fp1` = "/a", `fp2` = "/a/b"…): Chroma has no prefix match. */
export const MAX_FOLDER_DEPTH = 12;
export const folderKey = (depth: number) => `fp${depth}`;

/** The `fpN` keys of a folder path: each ancestor (and itself) at its depth. */
export function folderKeys(folder: string): Record<string, string> {
  const segments = folder.split('/').filter(Boolean).slice(0, MAX_FOLDER_DEPTH);
  const keys: Record<string, string> = {};
  segments.forEach((_, i) => {
    keys[folderKey(i + 1)] = `/${segments.slice(0, i + 1).join('/')}`;
  });
  return keys;
}

/** The conversation part of a vector's metadata. Keys for deeper folders absent before are cleared with "". */
export function conversationMetadata(c: ConversationAttributes): Record<string, string | number | boolean> {
  const folders: Record<string, string> = {};
  for (let d = 1; d <= MAX_FOLDER_DEPTH; d++) folders[folderKey(d)] = '';
  return { label: c.label, folder: c.folder, status: c.status, pinned: c.pinned, importance: c.importance, ...folders, ...folderKeys(c.folder) };
}

/** A vector's full metadata: the message's own fields plus its conversation's. */
export function vectorMetadata(
  message: { conversation_id: string; role: string; name?: string | null; timestamp: string },
  conversation: ConversationAttributes,
  model: string,
): Record<string, string | number | boolean> {
  return {
    conversation_id: message.conversation_id,
    role: message.role,
    // Chroma metadata has no null: a message without a name has no key (a `name` filter skips it).
    ...(message.name ? { name: message.name } : {}),
    timestamp: Math.floor(Date.parse(message.timestamp) / 1000),
    model,
    ...conversationMetadata(conversation),
  };
}
