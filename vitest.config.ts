import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { TEST_BINDINGS } from "./fixtures/environments.ts";
import { writeEventValidator } from "./scripts/event-validator.ts";

// Tests run inside workerd with the Worker's real bindings (KV, Durable Objects with SQLite and
// alarms), configured from wrangler.toml. The variables are the committed local defaults with the
// test values of fixtures/environments.ts, never .dev.vars, so local settings never change a result.
// The read model's D1 migrations, applied by test/setup.ts with the plugin's helper (as `npm run dev`
// applies them with `wrangler d1 migrations apply`).
const migrations = await readD1Migrations("./migrations");
// Every body the tests' origin receives is validated against schemas/events.schema.json's source.
writeEventValidator(new URL("./test/generated/validate-events.mjs", import.meta.url).pathname);

/** standardwebhooks (a dev dependency, the tests' independent verifier) ships a source map that names
 *  source files it does not ship; Vite warned about it at every run. Its map is dropped, not the warning. */
const withoutBrokenSourceMap = {
  name: "standardwebhooks-without-source-map",
  enforce: "pre" as const,
  load(id: string) {
    if (!id.includes("/node_modules/standardwebhooks/") || !id.endsWith(".js")) return null;
    return { code: readFileSync(id, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, ""), map: null };
  },
};

export default defineConfig({
  test: {
    // Quiet by default: the gateway logs every decision, and tests assert the lines that are the
    // contract (logging.test.ts, replay.test.ts). A failed test still shows what it logged.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          withoutBrokenSourceMap,
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { ...TEST_BINDINGS, TEST_MIGRATIONS: migrations },
            },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**"],
          setupFiles: ["test/setup.ts"],
        },
      },
      {
        // What runs outside the Worker, in Node: `npm run deploy` with the real wrangler against a
        // stand-in of Cloudflare's API (test/node/deploy.test.ts).
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
