import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { benchBindings } from "../fixtures/environments.ts";
import { writeEventValidator } from "../scripts/event-validator.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

// The operation-counting step of `npm run bench`, inside workerd like the tests, with the read
// model's D1 schema applied.
const migrations = await readD1Migrations(`${root}migrations`);
// test/stand-ins.ts validates what the origin receives with the schema's standalone validator.
writeEventValidator(`${root}test/generated/validate-events.mjs`);
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: {
          ...benchBindings("https://merchant.test/webhooks", {
            PORTONE_API_BASE_URL: "https://portone-api.test",
            // A second destination that takes only successful payment links: the ops run's
            // `new_event_two_destinations` phase is charged for both.
            DESTINATIONS: JSON.stringify({
              second: {
                url: "https://merchant.test/webhooks/second",
                secret: "whsec_c2Vjb25kLWJlbmNoLXNlY3JldC0wMTIzNDU2Nzg5",
                types: ["portone.payment_link.success"],
              },
            }),
          }),
          TEST_MIGRATIONS: migrations,
        },
      },
    }),
  ],
  // One file at a time, each with room: they count operations, and share one workerd.
  test: { root, include: ["bench/ops/*.test.ts"], fileParallelism: false, testTimeout: 600_000 },
});
