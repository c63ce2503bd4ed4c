#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (built by `npm install` through the prepare script, or `npm run build`).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error('grantflow: not built yet; run `npm run build` in ' + path.join(__dirname, '..'));
  process.exit(1);
}
require(entry).main();
