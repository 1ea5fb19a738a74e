// Starting and stopping Workers under `wrangler dev` (workerd) for the benchmark, and reading the
// CPU time the runtime's processes used, from /proc.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const WRANGLER = join(import.meta.dirname, "..", "node_modules", "wrangler", "bin", "wrangler.js");
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

export interface Served {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
  /** CPU milliseconds used so far by every process under this wrangler dev, and by workerd alone. */
  cpuMs(): CpuSample;
}

/** CPU milliseconds: the whole process group (wrangler's Node processes and workerd), and workerd's
 *  share (the Workers themselves; the rest is wrangler's own work, such as handling log lines). */
export interface CpuSample {
  readonly all: number;
  readonly workerd: number;
}

export async function serve(
  name: string,
  config: string,
  port: number,
  vars: Record<string, string> = {},
  /** Runs after the migrations and before the Worker starts, with the local state's folder. */
  prepare?: (persist: string) => void,
): Promise<Served> {
  const persist = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  if (readFileSync(config, "utf8").includes("[[d1_databases]]")) {
    // The read model's schema, as `npm run dev` applies it.
    execFileSync(
      process.execPath,
      [WRANGLER, "d1", "migrations", "apply", "READ_MODEL", "--local", "-c", config, "--persist-to", persist],
      { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
    );
  }
  prepare?.(persist);
  const args = [
    WRANGLER,
    "dev",
    "-c",
    config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    persist,
    "--show-interactive-dev-session=false",
    // /__scheduled runs the cron handler (reconciliation and the alarms' watchdog) on demand.
    "--test-scheduled",
    "--inspector-port",
    String(port + 1000),
  ];
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    detached: true,
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within 60 s:\n${output.slice(-2000)}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`)));
  });
  // Keep draining its output so the runtime never blocks on a full pipe.
  child.stdout?.removeAllListeners("data").on("data", () => undefined);
  child.stderr?.removeAllListeners("data").on("data", () => undefined);
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    cpuMs: () => treeCpuMs(child.pid ?? 0),
    stop: async () => {
      child.removeAllListeners("exit");
      try {
        process.kill(-(child.pid ?? 0), "SIGTERM");
      } catch {}
      await new Promise((r) => setTimeout(r, 500));
    },
  };
}

function treeCpuMs(root: number): CpuSample {
  let [total, workerd] = [0, 0];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = (Number(fields[11]) + Number(fields[12])) * (1000 / TICKS_PER_SECOND);
      total += ms;
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === "workerd") workerd += ms;
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      if (children) queue.push(...children.split(" ").map(Number));
    } catch {}
  }
  return { all: total, workerd };
}

/** The admin token the benchmarks give the gateway (to read its destinations' gate counters). */
export const BENCH_ADMIN_TOKEN = "bench-admin-token";

/** Requests each destination's gate has answered since it started (GET /admin/destinations). */
export async function gateRequests(url: string): Promise<Record<string, number>> {
  const answer = await fetch(`${url}/admin/destinations`, {
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
  });
  const { destinations } = (await answer.json()) as {
    destinations: Array<{ name: string; asked_since_start: number }>;
  };
  return Object.fromEntries(destinations.map((d) => [d.name, d.asked_since_start]));
}
