/**
 * format.ts: the number formats and lines the two CLI entry points share
 * (`heapfit` in main.ts, `npm start` in start.ts).
 */
import { formatInt } from '../render/svgkit.js';
import type { ReplayFailure } from '../trace/index.js';

/** A 0..1 ratio as a percentage with two decimals. */
export const pct = (r: number): string => `${(r * 100).toFixed(2)} %`;
/** The text of a replay that stopped at a failed allocation. */
export const failureText = (f: ReplayFailure): string => `op ${formatInt(f.op)} (line ${formatInt(f.line)}): '${f.kind}' of ${formatInt(f.size)} bytes returned 0`;
/** Whether standard output should get colour (a terminal, and NO_COLOR not set). */
export const colorOut = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;
