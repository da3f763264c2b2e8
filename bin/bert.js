#!/usr/bin/env node
// Thin shim: everything the CLI does is in the library (src/cli/main.ts).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
