import t from 'tap';
import { agentSuite } from './suite.js';

await agentSuite(t, 'claude-code');
