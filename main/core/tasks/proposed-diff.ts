/*
 * The change a file tool asks to make, as diff lines without a header: shown on the approval
 * card before it happens and written into a task's Markdown export. Pure, so the renderer
 * imports it too.
 */

const marked = (text: string, mark: '+' | '-'): string[] => text.split('\n').map((line) => `${mark}${line}`);

/** An Edit (old_string → new_string): the removed lines, then the added ones. */
export const editAsDiff = (oldString: string, newString: string): string =>
  [...marked(oldString, '-'), ...marked(newString, '+')].join('\n');

/** A Write: every line of the new content, added. */
export const writeAsDiff = (content: string): string => marked(content.replace(/\n$/, ''), '+').join('\n');
