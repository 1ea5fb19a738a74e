// Load from autocannon (a maintained load generator) with pre-built, pre-signed distinct bodies:
// each request of a run takes the next body, so no body repeats unless a scenario wants it to.
import autocannon from "autocannon";
import type { CpuSample } from "./serve";

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  readonly cpuMsPerRequest: number;
  /** CPU of the whole wrangler dev process group from the load's start to the end of its drain (the
   *  forwards the load caused), per request. */
  readonly cpuMsPerEventWithDrain: number;
  /** The same, workerd's processes alone (what the Workers themselves spent, without wrangler's part). */
  readonly workerdCpuMsPerEventWithDrain: number;
}

export async function load(
  url: string,
  bodies: readonly string[],
  connections: number,
  cpuMs: () => CpuSample,
  drain: () => Promise<void> = async () => undefined,
): Promise<LoadResult> {
  let next = 0;
  const cpuBefore = cpuMs();
  const started = performance.now();
  let lastResponse = started;
  // autocannon notices the end of an `amount` run only on its one-second tick, so its duration
  // (and any rate from it) is quantized: time from the start to the last response instead.
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        amount: bodies.length,
        timeout: 30,
        requests: [
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
          },
        ],
      },
      (err, done) => (err ? reject(err) : resolve(done)),
    );
    instance.on("response", () => {
      lastResponse = performance.now();
    });
  });
  const seconds = (lastResponse - started) / 1000;
  const cpu = cpuMs().all - cpuBefore.all;
  await drain();
  const after = cpuMs();
  const cpuWithDrain = after.all - cpuBefore.all;
  const completed = result.requests.total;
  return {
    requests: completed,
    rps: round(completed / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMsPerRequest: round(cpu / Math.max(1, completed), 3),
    cpuMsPerEventWithDrain: round(cpuWithDrain / Math.max(1, completed), 3),
    workerdCpuMsPerEventWithDrain: round((after.workerd - cpuBefore.workerd) / Math.max(1, completed), 3),
  };
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
