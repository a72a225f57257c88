#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so that workflow and config files need no build step either.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
