#!/usr/bin/env node
import { runConnectorCommand } from './connector-cmd.js';

runConnectorCommand(process.argv.slice(2)).then((code) => process.exit(code));
