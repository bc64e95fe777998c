/**
 * The main thread's side of the replay worker (replay-worker.ts): one worker thread, started on
 * the first page asked for, and at most `maxInFlight` pages given to it at a time (the route
 * answers 503 beyond, `busy`). A worker that dies (it should not: a page's own failure is an
 * answer, not a crash) fails its pages, is reported to `onCrash`, and the next page starts a new one.
 */
import { Worker } from "node:worker_threads";
import type { StoredRound } from "../journal/round-journal.ts";
import type { PageDone, PageJob } from "./replay-worker.ts";

interface Waiting {
  resolve(body: Uint8Array): void;
  reject(err: Error): void;
}

export class ReplayThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;
  private readonly maxInFlight: number;
  private readonly onCrash: (err: Error) => void;

  constructor(opts: { maxInFlight: number; onCrash: (err: Error) => void }) {
    this.maxInFlight = opts.maxInFlight;
    this.onCrash = opts.onCrash;
  }

  /** Pages are refused while this many are being made. */
  get busy(): boolean {
    return this.waiting.size >= this.maxInFlight;
  }

  /** The page's JSON bytes. Rejects with the page's failure, or the worker's. */
  page(room: string, rows: StoredRound[], limit: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error("replay worker is closed"));
    const id = this.nextId++;
    const job: PageJob = { id, room, limit, rows };
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.started().postMessage(job);
    });
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL("./replay-worker.ts", import.meta.url));
    worker.unref(); // pages in flight do not keep a closing process alive
    worker.on("message", (done: PageDone) => {
      const waiting = this.waiting.get(done.id);
      this.waiting.delete(done.id);
      if ("body" in done) waiting?.resolve(done.body);
      else waiting?.reject(new Error(done.error));
    });
    worker.on("error", (err) => this.lost(worker, err));
    worker.on("exit", (code) => this.lost(worker, new Error(`replay worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const waiting of this.waiting.values()) waiting.reject(err);
    this.waiting.clear();
    if (!this.closed) this.onCrash(err);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }
}
