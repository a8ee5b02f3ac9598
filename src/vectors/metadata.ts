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

/** The conversation's keys, without clearing any (a new vector has no deeper folder keys to clear). */
function conversationKeys(c: ConversationAttributes): Record<string, string | number | boolean> {
  return { label: c.label, folder: c.folder, status: c.status, pinned: c.pinned, importance: c.importance, ...folderKeys(c.folder) };
}

/**
 * The conversation part of a vector's metadata, as an update of its vectors sets it: keys for deeper
 * folders than its own are cleared with "" (Chroma merges an update's metadata into the stored one, and
 * neither an update nor an upsert removes a key given null).
 */
export function conversationMetadata(c: ConversationAttributes): Record<string, string | number | boolean> {
  const folders: Record<string, string> = {};
  for (let d = 1; d <= MAX_FOLDER_DEPTH; d++) folders[folderKey(d)] = '';
  return { ...folders, ...conversationKeys(c) };
}

/**
 * A new vector's metadata: the message's own fields plus its conversation's, only the keys a `where`
 * filter reads (toWhere). Chroma's write cost grows with the keys (it stores and indexes each one):
 * with the 12 folder keys always and the model, ~21 keys a vector, 30,000 bench vectors loaded at
 * 678–713 records/s; with ~10, at 981–1,008 (bench/chromaScale.ts --vectors 30000, interleaved).
 * An upsert of a vector stored before merges into its keys; any later change of the conversation's
 * folder reaches its vectors as an update, which clears deeper keys.
 */
export function vectorMetadata(
  message: { conversation_id: string; role: string; name?: string | null; timestamp: string },
  conversation: ConversationAttributes,
): Record<string, string | number | boolean> {
  return {
    conversation_id: message.conversation_id,
    role: message.role,
    // Chroma metadata has no null: a message without a name has no key (a `name` filter skips it).
    ...(message.name ? { name: message.name } : {}),
    timestamp: Math.floor(Date.parse(message.timestamp) / 1000),
    ...conversationKeys(conversation),
  };
}
