// Worker entry for TypeScript workers: registers tsx in this worker, then
// imports the module named by workerData.entry (a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
