import { defineUnreachable, defineWorkflow } from './registry-workflow.js';

// The registry workflow against `mlv server` in its own process, and against no server at all.
defineWorkflow('server', { full: true });
defineUnreachable();
