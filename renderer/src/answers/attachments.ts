import { classifyBytes, unsupportedFileMessage } from '../../../main/core/files/file-kind';
import type { AttachmentUpload } from '../api/types';

export { PICKER_ACCEPT } from '../../../main/core/files/file-kind';

export const DEFAULT_MAX_UPLOAD_MB = 10;

/**
 * Reads a file for the chat API (base64), refusing at once — with the service's own words — a
 * file the service would refuse: too big, empty, or of a type Claude cannot read.
 */
export async function toUpload(file: File, maxMb: number = DEFAULT_MAX_UPLOAD_MB): Promise<AttachmentUpload> {
  const name = file.name || 'pasted file';
  if (file.size > maxMb * 1024 * 1024) {
    throw new Error(`${name} is larger than ${maxMb} MB, the upload limit.`);
  }
  if (file.size === 0) throw new Error(`${name} is empty.`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const classified = classifyBytes(bytes);
  if (!classified) throw new Error(unsupportedFileMessage(name));
  let binary = '';
  // In slices: String.fromCharCode with a huge argument list overflows the stack.
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return { name, media_type: classified.media_type, data: btoa(binary) };
}

/** A data URL for showing an image attachment before it is sent; undefined for other files. */
export const previewOf = (upload: AttachmentUpload): string | undefined =>
  upload.media_type.startsWith('image/') ? `data:${upload.media_type};base64,${upload.data}` : undefined;
