#!/usr/bin/env node
// Thin shim so npm can link the bin before the TypeScript build exists (run `npm run build` first).
import('../dist/src/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('tokios is not built yet: run `npm run build` in the repository root.\n');
    process.exit(1);
  }
  throw err;
});
