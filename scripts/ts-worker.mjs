// Worker entry for TypeScript workers (tests and benchmarks): registers tsx
// in this worker, then imports the module named by workerData.entry (a file
// URL). On Node 20 a worker does not inherit the tsx loader, and
// `execArgv: ['--import', 'tsx']` does not give it one either.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
