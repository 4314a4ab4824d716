import { defineRouteWorkflow } from './route-workflow.js';

// mlv route / mlv assign against the embedded default registry in a temp MLV_HOME.
defineRouteWorkflow('embedded', { full: false });
