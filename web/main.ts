// `npm run web [-- --port N] [-- --model DIR]`: builds the page and serves it on 127.0.0.1. The model
// folder `npm start` made (runs/start/model) is offered on the page when it exists.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildWeb } from './build.ts';
import { serveWeb } from './serve.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, model: { type: 'string', default: 'runs/start/model' } } });
const report = await buildWeb();
const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
console.log(`built ${report.dir}: ${Object.entries(report.sizes).map(([f, n]) => `${f} ${kb(n)}`).join(', ')}`);
const modelDir = values.model !== undefined && existsSync(values.model) ? values.model : undefined;
const server = await serveWeb(report.dir, { port: Number(values.port), modelDir });
console.log(`serving ${server.url}${modelDir ? ` (model folder ${modelDir} at /served-model/)` : ''}; Ctrl-C stops`);
