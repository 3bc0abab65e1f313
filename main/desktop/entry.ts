import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as electron from 'electron';
import { startDesktopApp } from './desktop-app.js';

// The Electron entry: wiring only. It lives in main/desktop, the only place that imports Electron.
startDesktopApp(electron, { mainDir: path.dirname(fileURLToPath(import.meta.url)) });
