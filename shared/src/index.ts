export * from './errors.js';
export * from './package-name.js';
export * from './api.js';
export * from './protocol.js';
export * from './zip-check.js';
export * from './projects.js';
