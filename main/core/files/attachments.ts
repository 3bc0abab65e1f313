import path from 'node:path';
import type { ContentBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { PerchError, invalidRequest } from '../errors.js';
import type { AttachmentInput } from '../storage/conversation-store.js';

export type AttachmentKind = 'text' | 'image' | 'pdf';

const IMAGE_SIGNATURES: ReadonlyArray<{ mediaType: string; matches: (data: Buffer) => boolean }> = [
  {
    mediaType: 'image/png',
    matches: (d) => d.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  { mediaType: 'image/jpeg', matches: (d) => d[0] === 0xff && d[1] === 0xd8 && d[2] === 0xff },
  { mediaType: 'image/gif', matches: (d) => /^GIF8[79]a$/.test(d.subarray(0, 6).toString('latin1')) },
  {
    mediaType: 'image/webp',
    matches: (d) => d.subarray(0, 4).toString('latin1') === 'RIFF' && d.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(data: Buffer): string | undefined {
  if (data.includes(0)) return undefined;
  try {
    return utf8.decode(data).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}

export interface ClassifiedFile {
  kind: AttachmentKind;
  /** The media type Perch determined from the bytes (a client's claim is not trusted). */
  media_type: string;
}

/**
 * Decides what a file is from its bytes: PNG/JPEG/GIF/WebP images, PDFs, or UTF-8 text (any
 * code or plain-text file). Anything else is refused with a message naming what is accepted.
 */
export function classifyFile(name: string, data: Buffer): ClassifiedFile {
  if (data.length === 0) throw invalidRequest(`The file '${name}' is empty.`);
  const image = IMAGE_SIGNATURES.find((signature) => signature.matches(data));
  if (image) return { kind: 'image', media_type: image.mediaType };
  if (data.subarray(0, 5).toString('latin1') === '%PDF-') return { kind: 'pdf', media_type: 'application/pdf' };
  if (decodeText(data) !== undefined) return { kind: 'text', media_type: 'text/plain' };
  throw new PerchError(
    'unsupported_media_type',
    415,
    `'${name}' is not a supported file type. Perch accepts text and code files (UTF-8), images (PNG, JPEG, GIF, WebP) and PDFs.`,
  );
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
