// Public surface of the pure overlay engine.
export * from './errors.js';
export type * from './model.js';
export type * from './compiled.js';
export * from './ip.js';
export * from './keys.js';
export * from './validation.js';
export { validateOverlaySpec } from './spec-validation.js';
export * from './addressing.js';
export * from './conflicts.js';
export * from './nat.js';
export { compileOverlay, compileOverlayDetailed, findCompiledPeer } from './compile.js';
export { effectiveTopology } from './topology.js';
export * from './render/wgquick.js';
export * from './render/routeros.js';
export * from './render/qr.js';
export * from './staleness.js';
export * from './reachability.js';
export * from './graph.js';
