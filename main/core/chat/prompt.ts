import type { ContentBlockParam, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { attachmentBlock } from '../files/attachments.js';
import type { ContextMessage } from '../storage/conversation-store.js';

function userBlocks(message: ContextMessage): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = message.attachments.map(attachmentBlock);
  if (message.context) blocks.push({ type: 'text', text: `<context>\n${message.context}\n</context>` });
  // The question reaches Claude exactly as written (the API refuses blank text blocks).
  if (message.content.trim() !== '') blocks.push({ type: 'text', text: message.content });
  return blocks;
}

/**
 * The Messages API wants alternating turns with non-empty content. History can hold two
 * questions in a row (the answer between them failed), so same-role turns are merged.
 */
export function toClaudeMessages(history: ContextMessage[]): MessageParam[] {
  const messages: MessageParam[] = [];
  for (const entry of history) {
    const blocks: ContentBlockParam[] =
      entry.role === 'user' ? userBlocks(entry) : entry.content === '' ? [] : [{ type: 'text', text: entry.content }];
    if (blocks.length === 0) continue;
    const previous = messages.at(-1);
    if (previous && previous.role === entry.role) {
      (previous.content as ContentBlockParam[]).push(...blocks);
    } else {
      messages.push({ role: entry.role, content: blocks });
    }
  }
  // A conversation must open with the user; drop any leading answers.
  while (messages[0]?.role === 'assistant') messages.shift();
  return messages;
}
