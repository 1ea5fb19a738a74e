// Structured logs: one JSON object per line, with ids (event, object, route), never secrets,
// never payloads (they carry buyers' personal data and masked card numbers).
// LOG_LEVEL ("info" by default, or "debug", "warn", "error") drops the lines below it. Each line costs
// CPU (about a millisecond under `wrangler dev`, measured in the benchmark) and is a billed Workers Logs
// event, so "info" logs each decision once: a webhook's verdict (accepted, duplicate, rejected).
// Repeats of a decision already logged (a redelivery answered by the edge hint, after the ledger logged
// its first duplicate) and routine successes recorded elsewhere (a forward, on the event's timeline) are
// "debug"; warnings and errors always stay.

export type Level = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold = RANK.info;

/** Sets the level from the configuration (once per request or object; it is per deployment). */
export function setLogLevel(level: Level): void {
  threshold = RANK[level];
}

export function log(level: Level, msg: string, fields: LogFields = {}): void {
  if (RANK[level] < threshold) return;
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
