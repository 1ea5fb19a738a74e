import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { benchBindings } from "../fixtures/environments";

const root = fileURLToPath(new URL("..", import.meta.url));

// The operation-counting step of `npm run bench`, inside workerd like the tests, with the read
// model's D1 schema applied.
const migrations = await readD1Migrations(`${root}migrations`);
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: {
          ...benchBindings("https://merchant.test/webhooks", { PORTONE_API_BASE_URL: "https://portone-api.test" }),
          TEST_MIGRATIONS: migrations,
        },
      },
    }),
  ],
  test: { root, include: ["bench/ops/*.test.ts"] },
});
