// Structured logs: one JSON object per line, with ids (event, object, route), never secrets,
// never payloads (they carry buyers' personal data and masked card numbers).
// LOG_LEVEL ("info" by default, or "warn", "error") drops the lines below it: the per-event info
// lines cost CPU on every request (measured in the benchmark); warnings and errors always stay.

export type Level = "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const RANK: Record<Level, number> = { info: 0, warn: 1, error: 2 };
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
