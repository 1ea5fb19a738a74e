// The forwarded events' schema compiled by Ajv into standalone code (no eval, so it runs inside
// workerd), for the tests: vitest.config.ts writes it to test/generated/ before they start, and the
// origin stand-in validates every body the gateway forwards with it.

import { mkdirSync, writeFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import standaloneCode from "ajv/dist/standalone/index.js";
import { eventsSchema } from "../src/providers/schema/events.ts";

export function writeEventValidator(path: string): void {
  const ajv = new Ajv2020({ strict: true, allErrors: true, code: { source: true, esm: true } });
  const code = standaloneCode(ajv, ajv.compile(eventsSchema()));
  mkdirSync(new URL(".", `file://${path}`), { recursive: true });
  writeFileSync(path, `// Generated from src/providers/schema/events.ts by scripts/event-validator.ts.\n${code}\n`);
}
