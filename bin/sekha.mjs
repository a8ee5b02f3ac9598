#!/usr/bin/env node
// The `sekha` command: runs src/main.ts through tsx's loader (the source is the program; no build step).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
await import(fileURLToPath(new URL('../src/main.ts', import.meta.url)));
