import type { AttachmentUpload } from '../api/types';

export const DEFAULT_MAX_UPLOAD_MB = 10;

/** Reads a file for the chat API (base64). Perch decides its type from the bytes. */
export async function toUpload(file: File, maxMb: number = DEFAULT_MAX_UPLOAD_MB): Promise<AttachmentUpload> {
  if (file.size > maxMb * 1024 * 1024) {
    throw new Error(`${file.name} is larger than ${maxMb} MB, the upload limit.`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  // In slices: String.fromCharCode with a huge argument list overflows the stack.
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return { name: file.name || 'pasted file', media_type: file.type || 'application/octet-stream', data: btoa(binary) };
}
