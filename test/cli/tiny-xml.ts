/**
 * A small, strict XML reader for the service files the tests check: elements, attributes, text,
 * the five predefined entities and numeric references. Anything malformed (a bare `&` or `<`, a
 * tag closed out of order, text outside the root) throws.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&([^;]*);|&/g, (match, name: string | undefined) => {
    if (name === undefined) throw new Error(`A bare & in ${JSON.stringify(text)}`);
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    const value = entities[name];
    if (value === undefined) throw new Error(`Unknown entity ${match}`);
    return value;
  });
}

export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let index = 0;
  const skip = (end: string): void => {
    const at = source.indexOf(end, index);
    if (at === -1) throw new Error(`Unterminated ${end} at ${index}`);
    index = at + end.length;
  };
  while (index < source.length) {
    const open = source.indexOf('<', index);
    const text = source.slice(index, open === -1 ? source.length : open);
    const parent = stack.at(-1);
    if (parent) parent.text += decode(text);
    else if (text.trim() !== '') throw new Error(`Text outside the root element: ${JSON.stringify(text)}`);
    if (open === -1) break;
    index = open;
    if (source.startsWith('<?', index)) skip('?>');
    else if (source.startsWith('<!--', index)) skip('-->');
    else if (source.startsWith('<!DOCTYPE', index)) skip('>');
    else if (source.startsWith('</', index)) {
      const close = /^<\/([\w:.-]+)\s*>/.exec(source.slice(index));
      const element = stack.pop();
      if (!close || element?.name !== close[1]) throw new Error(`Mismatched closing tag at ${index}`);
      index += close[0].length;
    } else {
      const tag = /^<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(source.slice(index));
      if (!tag?.[1]) throw new Error(`Malformed tag at ${index}: ${source.slice(index, index + 40)}`);
      const attributes: Record<string, string> = {};
      for (const attribute of (tag[2] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        attributes[attribute[1]!] = decode(attribute[2] ?? attribute[3] ?? '');
      }
      const element: XmlElement = { name: tag[1], attributes, children: [], text: '' };
      if (parent) parent.children.push(element);
      else if (root) throw new Error('A second root element');
      else root = element;
      if (tag[3] !== '/') stack.push(element);
      index += tag[0].length;
    }
  }
  if (stack.length > 0 || !root) throw new Error('Unclosed elements');
  return root;
}

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function plistValue(element: XmlElement): PlistValue {
  switch (element.name) {
    case 'string':
      return element.text;
    case 'integer':
      return Number(element.text);
    case 'true':
      return true;
    case 'false':
      return false;
    case 'array':
      return element.children.map(plistValue);
    case 'dict': {
      const result: Record<string, PlistValue> = {};
      for (let i = 0; i < element.children.length; i += 2) {
        const key = element.children[i];
        const value = element.children[i + 1];
        if (key?.name !== 'key' || !value) throw new Error('A dict must alternate <key> and a value');
        result[key.text] = plistValue(value);
      }
      return result;
    }
    default:
      throw new Error(`Not a plist element: <${element.name}>`);
  }
}

/** A property list's top-level value. */
export function parsePlist(source: string): PlistValue {
  const root = parseXml(source);
  if (root.name !== 'plist' || root.children.length !== 1) throw new Error('Not a plist');
  return plistValue(root.children[0]!);
}

/** The first descendant with that name (depth first). */
export function find(element: XmlElement, name: string): XmlElement | undefined {
  for (const child of element.children) {
    if (child.name === name) return child;
    const found = find(child, name);
    if (found) return found;
  }
  return undefined;
}
