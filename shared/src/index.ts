export * from './errors.js';
export * from './package-name.js';
export * from './api.js';
export * from './protocol.js';
export * from './zip-check.js';
export * from './exit-codes.js';
export * from './network-errors.js';
export * from './projects.js';
