/**
 * What a file is, from its bytes: the one rule the service uses to accept attachments and the
 * UI uses to refuse a file the moment it is picked. Plain bytes in, no Node APIs, so the
 * browser bundle can use it too.
 */
export type FileKind = 'text' | 'image' | 'pdf';

export interface ClassifiedBytes {
  kind: FileKind;
  media_type: string;
}

const startsWith = (bytes: Uint8Array, prefix: ReadonlyArray<number>, at = 0): boolean =>
  prefix.every((value, index) => bytes[at + index] === value);
const ascii = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0));

const IMAGE_SIGNATURES: ReadonlyArray<{ mediaType: string; matches: (bytes: Uint8Array) => boolean }> = [
  { mediaType: 'image/png', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mediaType: 'image/jpeg', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { mediaType: 'image/gif', matches: (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a')) },
  { mediaType: 'image/webp', matches: (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8) },
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of UTF-8 bytes without a byte-order mark, or undefined for anything binary. */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}

/** PNG/JPEG/GIF/WebP images, PDFs, or UTF-8 text (any code or plain-text file); undefined for anything else. */
export function classifyBytes(bytes: Uint8Array): ClassifiedBytes | undefined {
  const image = IMAGE_SIGNATURES.find((signature) => signature.matches(bytes));
  if (image) return { kind: 'image', media_type: image.mediaType };
  if (startsWith(bytes, ascii('%PDF-'))) return { kind: 'pdf', media_type: 'application/pdf' };
  if (decodeText(bytes) !== undefined) return { kind: 'text', media_type: 'text/plain' };
  return undefined;
}

export const ACCEPTED_FILES = 'text and code files (UTF-8), images (PNG, JPEG, GIF, WebP) and PDFs';

export const unsupportedFileMessage = (name: string): string =>
  `'${name}' is not a supported file type. Perch accepts ${ACCEPTED_FILES}.`;

/**
 * For a file picker's `accept`: the types Perch takes. Code files have too many extensions to
 * list; the common ones are here, and any other UTF-8 file is still accepted when dropped.
 */
export const PICKER_ACCEPT = [
  'text/*',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'application/json',
  ...'.md .txt .csv .log .json .yaml .yml .toml .ini .xml .html .css .scss .js .mjs .cjs .jsx .ts .tsx .py .rb .go .rs .java .kt .swift .c .h .cc .cpp .hpp .cs .php .sh .bash .zsh .ps1 .sql .lua .r .dart .vue .svelte'.split(
    ' ',
  ),
].join(',');
