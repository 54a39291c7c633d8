/** heapfit/render: heap maps, re-exports only. */
export { type CellState, bytesPerCell, cellStates } from './cells.js';
export { type CellKind, type TextMapOptions, cellKind, renderText } from './text.js';
