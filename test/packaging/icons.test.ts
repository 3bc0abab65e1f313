import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromRoot } from './electron-builder.js';
import { decodePng, readPngHeader, type DecodedPng } from './png.js';

const png = (file: string): Buffer => readFileSync(fromRoot('assets', file));
const decoded = (file: string): DecodedPng => decodePng(png(file));

const pixel = (image: DecodedPng, x: number, y: number): number[] => {
  const at = (y * image.width + x) * 4;
  return [...image.pixels.subarray(at, at + 4)];
};
const alphaAt = (image: DecodedPng, x: number, y: number): number => pixel(image, x, y)[3] ?? 0;

const EXPECTED_SIZES: Record<string, number> = {
  'icon.png': 1024,
  ...Object.fromEntries([16, 32, 48, 64, 128, 256, 512].map((size) => [`icons/${size}x${size}.png`, size])),
  ...Object.fromEntries(
    ['trayTemplate', 'trayBusyTemplate', 'trayAttentionTemplate', 'tray', 'tray-busy', 'tray-attention'].flatMap((name) => [
      [`tray/${name}.png`, 16],
      [`tray/${name}@2x.png`, 32],
    ]),
  ),
};

describe('the rendered icons', () => {
  it.each(Object.entries(EXPECTED_SIZES))('%s is %i px square, RGBA', (file, size) => {
    expect(readPngHeader(png(file))).toMatchObject({ width: size, height: size, bitDepth: 8, colorType: 6 });
  });

  it.each([
    'trayTemplate',
    'trayTemplate@2x',
    'trayBusyTemplate',
    'trayBusyTemplate@2x',
    'trayAttentionTemplate',
    'trayAttentionTemplate@2x',
  ])('%s is a macOS template image: black, drawn with alpha only', (name) => {
    const image = decoded(`tray/${name}.png`);
    const alphas: number[] = [];
    for (let at = 0; at < image.pixels.length; at += 4) {
      expect([...image.pixels.subarray(at, at + 3)]).toEqual([0, 0, 0]);
      alphas.push(image.pixels[at + 3] ?? 0);
    }
    expect(Math.max(...alphas)).toBe(255);
    expect(Math.min(...alphas)).toBe(0);
  });

  it.each([
    ['trayTemplate', 'trayBusyTemplate'],
    ['tray', 'tray-busy'],
  ])('%s has no dot where %s has one, top right', (plain, busy) => {
    for (const suffix of ['', '@2x']) {
      const [idle, active] = [decoded(`tray/${plain}${suffix}.png`), decoded(`tray/${busy}${suffix}.png`)];
      // The dot's centre, at (55, 9) on tray.svg's 64-unit grid.
      const [x, y] = [Math.floor((55 / 64) * idle.width), Math.floor((9 / 64) * idle.height)];
      expect(pixel(active, x, y)).not.toEqual(pixel(idle, x, y));
      expect(alphaAt(active, x, y)).toBe(255);
    }
  });

  it('marks a task that needs the person with an exclamation mark on a larger badge, unlike the busy dot', () => {
    // On tray.svg's 64-unit grid: the mark's stroke at (50, 9), the badge beside it at (41, 5), where the bird is not.
    const at = (image: { width: number; height: number }, x: number, y: number): [number, number] => [
      Math.floor((x / 64) * image.width),
      Math.floor((y / 64) * image.height),
    ];
    const template = decoded('tray/trayAttentionTemplate@2x.png');
    expect(alphaAt(template, ...at(template, 41, 5))).toBe(255);
    expect(alphaAt(template, ...at(template, 50, 9))).toBe(0);
    const coloured = decoded('tray/tray-attention@2x.png');
    const [badgeRed = 0] = pixel(coloured, ...at(coloured, 41, 5));
    const [markRed = 0] = pixel(coloured, ...at(coloured, 50, 9));
    expect(badgeRed).toBeGreaterThan(200);
    expect(markRed).toBeLessThan(80);
    const busy = decoded('tray/trayBusyTemplate@2x.png');
    expect(alphaAt(busy, ...at(busy, 41, 5))).not.toBe(alphaAt(template, ...at(template, 41, 5)));
  });

  it('draws the Windows and Linux tray image on an opaque plate in the accent colour', () => {
    const image = decoded('tray/tray@2x.png');
    const [red = 0, green = 0, blue = 0, alpha] = pixel(image, 3, 16);
    expect(alpha).toBe(255);
    expect(red).toBeGreaterThan(green + 60);
    expect(green).toBeGreaterThan(blue);
    // The cream bird on it.
    const light = Array.from({ length: image.width * image.height }, (_, at) => image.pixels[at * 4 + 2] ?? 0).filter(
      (value) => value > 200,
    );
    expect(light.length).toBeGreaterThan(40);
  });

  it('leaves the app icon a transparent margin around its rounded square', () => {
    const image = decoded('icon.png');
    expect(alphaAt(image, 10, 10)).toBe(0);
    expect(alphaAt(image, 512, 120)).toBe(255);
  });

  it("draws the app icon's bird with the tray glyph's silhouette", () => {
    const bird = /<path d="([^"]+)"\/>/.exec(readFileSync(fromRoot('assets/tray/tray.svg'), 'utf8'))?.[1];
    expect(bird).toBeTruthy();
    expect(readFileSync(fromRoot('assets/icon.svg'), 'utf8')).toContain(`d="${bird ?? ''}"`);
  });
});
