import { defineWorkflow } from './registry-workflow.js';

// The registry workflow against the embedded default registry (no tracking URI, MLV_HOME in a temp folder).
defineWorkflow('embedded', { full: false });
