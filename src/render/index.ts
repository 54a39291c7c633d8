/** heapfit/render: heap maps, re-exports only. */
export { type CellState, bytesPerCell, cellStates } from './cells.js';
export { type CellKind, type TextMapOptions, cellKind, renderText } from './text.js';
export { type BlockPart, type BlockState, type BlockTotals, type BlockView, type PartKind, blockTotals, blockViews } from './blocks.js';
export { type ReplaySvgOptions, type SvgMapOptions, describeBlock, renderReplaySvg, renderSvg } from './svg.js';
export { type ReplaySeries, type TimelineOptions, renderTimelineSvg } from './timeline.js';
export { type ReplayToSvgOptions, type SampleOptions, type SampledReplay, addSample, emptySeries, replayToSvg, sampleReplay } from './sample.js';
export { type TlsfBins, type TlsfList, tlsfBins } from './bins.js';
