import { defineRouteWorkflow } from './route-workflow.js';

// mlv route / mlv assign against `mlv server` in its own process on a loopback port.
defineRouteWorkflow('server', { full: true });
