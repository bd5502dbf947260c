#!/usr/bin/env node
// Committed launcher: it exists before the first build, so npm can link the binary at install time.
import '../dist/cuttle.js';
