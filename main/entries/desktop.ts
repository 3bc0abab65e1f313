import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as electron from 'electron';
import { startDesktopApp } from '../desktop/desktop-app.js';

// The Electron entry: wiring only. The app lives in main/desktop.
startDesktopApp(electron, { mainDir: path.dirname(fileURLToPath(import.meta.url)) });
