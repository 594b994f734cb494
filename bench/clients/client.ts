/** A client as the orchestrator sees it: how to start one process for one job and read its Measurement. */
import type { Job, Measurement } from '../job.js';
import type { Workload } from '../workloads.js';

/** Paths the bench prepared: compiled programs and a scratch directory. */
export interface Tools {
  /** bench/c/multi.c, compiled. */
  multi: string;
  /** bench/c/rusage.c, compiled. */
  rusage: string;
  /** The compiled Node.js clients (bench/.build). */
  build: string;
  tmp: string;
}

export interface Client {
  name: string;
  /** Why this client cannot run the workload, or undefined. */
  skip(workload: Workload): string | undefined;
  /** Builds what the client needs before the runs; returns why it cannot run at all, or undefined. */
  prepare?(): string | undefined;
  argv(job: Job, tools: Tools): string[];
  parse(stdout: string, job: Job): Measurement;
}

/** The last line of the output, as JSON. */
export const lastJsonLine = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
