/**
 * Renders Perch's icons from their two SVG sources, with the Chromium installed on this machine:
 *
 *   assets/icon.svg      → assets/icon.png (1024², electron-builder makes the .icns and .ico from it)
 *                          and assets/icons/NxN.png (the Linux icon set)
 *   assets/tray/tray.svg → assets/tray/*.png: macOS template images (black and alpha only) and
 *                          coloured images for Windows and Linux, each plain, "busy" (with a dot)
 *                          and "attention" (a larger badge with an exclamation mark: a task needs you)
 *
 * Run it after changing either SVG (`npm run icons`) and commit the PNGs: packaging and CI never render.
 * Chromium rasterises every size from the vector source, so 16 px is drawn at 16 px, not shrunk.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = path.join(root, 'assets');
const chromiumPath = process.env.PERCH_CHROMIUM ?? '/usr/bin/chromium';

/** The brand's warm accent (the app icon's plate, the coloured tray plate). */
const ACCENT = '#C4552D';
const CREAM = '#FFF6EE';
const GOLD = '#F5B83D';
/** The exclamation mark on the gold badge: near-black brown, well over 4.5:1 against gold. */
const INK = '#2B1408';

const APP_ICON_SIZES = [16, 32, 48, 64, 128, 256, 512] as const;

const iconSvg = readFileSync(path.join(assets, 'icon.svg'), 'utf8');
const traySvg = readFileSync(path.join(assets, 'tray', 'tray.svg'), 'utf8');

/** tray.svg placed in a square of the 64-unit canvas, painted in `color` (it fills with currentColor). */
function glyph(color: string, box = { x: 0, y: 0, size: 64 }): string {
  const placed = traySvg
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace('<svg ', `<svg x="${box.x}" y="${box.y}" width="${box.size}" height="${box.size}" `);
  return `<g style="color:${color}">${placed}</g>`;
}

/**
 * The busy badge: a dot in the top-right corner with a transparent gap around it, so it reads as
 * a separate mark even in a one-colour template image.
 */
function withBadge(content: string, dotColor: string): string {
  return (
    '<defs><mask id="badge-gap"><rect width="64" height="64" fill="#fff"/>' +
    '<circle cx="55" cy="9" r="11" fill="#000"/></mask></defs>' +
    `<g mask="url(#badge-gap)">${content}</g><circle cx="55" cy="9" r="8" fill="${dotColor}"/>`
  );
}

/**
 * The attention badge: larger than the busy dot, with an exclamation mark — knocked out of the
 * badge in a template image (macOS tints what is left), drawn dark on gold in the coloured one.
 */
function withAttention(content: string, badgeColor: string, markColor?: string): string {
  const mark = '<rect x="48" y="3.5" width="4" height="13" rx="2"/><circle cx="50" cy="21.5" r="2.4"/>';
  const knockout = markColor === undefined;
  return (
    '<defs><mask id="attention-gap"><rect width="64" height="64" fill="#fff"/>' +
    '<circle cx="50" cy="14" r="17" fill="#000"/></mask>' +
    (knockout ? `<mask id="attention-mark"><rect width="64" height="64" fill="#fff"/><g fill="#000">${mark}</g></mask>` : '') +
    '</defs>' +
    `<g mask="url(#attention-gap)">${content}</g>` +
    `<circle cx="50" cy="14" r="14" fill="${badgeColor}"${knockout ? ' mask="url(#attention-mark)"' : ''}/>` +
    (knockout ? '' : `<g fill="${markColor}">${mark}</g>`)
  );
}

const canvas = (content: string): string => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">${content}</svg>`;

/** macOS template image: black with alpha; macOS tints it for light and dark menu bars. */
const template = glyph('#000');
/**
 * Windows and Linux: a cream bird on the accent plate, legible on light and dark panels alike.
 * The bird is centred across; down, it sits so the branch's top edge falls on a pixel boundary at 16 px.
 */
const coloured = `<rect width="64" height="64" rx="14" fill="${ACCENT}"/>${glyph(CREAM, { x: 5, y: 3.5, size: 54 })}`;

interface Output {
  file: string;
  size: number;
  svg: string;
}

function outputs(): Output[] {
  const tray = (name: string, svg: string): Output[] => [
    { file: `tray/${name}.png`, size: 16, svg },
    { file: `tray/${name}@2x.png`, size: 32, svg },
  ];
  return [
    { file: 'icon.png', size: 1024, svg: iconSvg },
    ...APP_ICON_SIZES.map((size) => ({ file: `icons/${size}x${size}.png`, size, svg: iconSvg })),
    ...tray('trayTemplate', canvas(template)),
    ...tray('trayBusyTemplate', canvas(withBadge(template, '#000'))),
    ...tray('tray', canvas(coloured)),
    ...tray('tray-busy', canvas(withBadge(coloured, GOLD))),
    ...tray('trayAttentionTemplate', canvas(withAttention(template, '#000'))),
    ...tray('tray-attention', canvas(withAttention(coloured, GOLD, INK))),
  ];
}

async function render(page: Page, svg: string, size: number): Promise<Buffer> {
  await page.setViewportSize({ width: size, height: size });
  const sized = svg.replace(/<!--[\s\S]*?-->/g, '').replace('<svg ', `<svg width="${size}" height="${size}" `);
  await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
  return page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
}

async function main(): Promise<void> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Rendering the icons needs Chromium at ${chromiumPath} (apt-get install -y chromium, or set PERCH_CHROMIUM).`,
    );
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    for (const { file, size, svg } of outputs()) {
      const target = path.join(assets, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, await render(page, svg, size));
      console.log(`${path.relative(root, target)}  ${size}×${size}`);
    }
  } finally {
    await browser.close();
  }
}

await main();
