export * from './events.js';
export * from './state.js';
export * from './fold.js';
export * from './decide.js';
export * from './text.js';
export * from './redact.js';
export * from './messageFilter.js';
