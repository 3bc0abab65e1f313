import path from 'node:path';
import type { ContentBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { PerchError, invalidRequest } from '../errors.js';
import type { AttachmentInput } from '../storage/conversation-store.js';
import { classifyBytes, decodeText, unsupportedFileMessage, type ClassifiedBytes, type FileKind } from './file-kind.js';

export type AttachmentKind = FileKind;

/** The media type Perch determined from the bytes (a client's claim is not trusted). */
export type ClassifiedFile = ClassifiedBytes;

/**
 * Decides what a file is from its bytes: PNG/JPEG/GIF/WebP images, PDFs, or UTF-8 text (any
 * code or plain-text file). Anything else is refused with a message naming what is accepted.
 */
export function classifyFile(name: string, data: Buffer): ClassifiedFile {
  if (data.length === 0) throw invalidRequest(`The file '${name}' is empty.`);
  const classified = classifyBytes(data);
  if (!classified) throw new PerchError('unsupported_media_type', 415, unsupportedFileMessage(name));
  return classified;
}

/** Makes an attachment from uploaded bytes, naming it safely and typing it by its content. */
export function toAttachment(name: string | undefined, data: Buffer): AttachmentInput {
  const safeName = path.basename((name ?? '').replace(/\\/g, '/')).slice(0, 255) || 'file';
  const { media_type } = classifyFile(safeName, data);
  return { name: safeName, media_type, data };
}

const escapeAttribute = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The content block Claude reads an attachment as: text, image or document. */
export function attachmentBlock(attachment: AttachmentInput): ContentBlockParam {
  const { kind } = classifyFile(attachment.name, attachment.data);
  if (kind === 'image') {
    return {
      type: 'image',
      source: {
        type: 'base64',
        media_type: attachment.media_type as 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp',
        data: attachment.data.toString('base64'),
      },
    };
  }
  if (kind === 'pdf') {
    return {
      type: 'document',
      title: attachment.name,
      source: { type: 'base64', media_type: 'application/pdf', data: attachment.data.toString('base64') },
    };
  }
  const text = decodeText(attachment.data) ?? '';
  return { type: 'text', text: `<file name="${escapeAttribute(attachment.name)}">\n${text}\n</file>` };
}
