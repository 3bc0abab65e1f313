// Module hooks for the desktop main-process test: `electron` resolves to the recording stand-in
// (resolved through the next hooks, so tsx loads the TypeScript file).
const standIn = new URL('./electron.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier === 'electron' ? standIn : specifier, context);
}
