#!/usr/bin/env node
// Node >= 22.1 caches compiled modules between runs (faster start-up); Node 20 has no such API.
import module from 'node:module';
module.enableCompileCache?.();
await import('../dist/main.js');
