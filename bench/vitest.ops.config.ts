import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

// The operation-counting step of `npm run bench`, inside workerd like the tests.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: {
          PORTONE_SECRET_KEY: "PORTONE_SECRET",
          MERCHANT_ORIGIN_URL: "https://merchant.test/webhooks",
          FORWARD_SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
          ADMIN_TOKEN: "",
          PORTONE_KEY: "bench",
          PORTONE_API_BASE_URL: "https://portone-api.test",
          ALLOWED_SOURCE_IPS: "",
          WEBHOOK_SOURCES: "",
          LOG_LEVEL: "info",
          SEEN_HINT: "on",
        },
      },
    }),
  ],
  test: { root, include: ["bench/ops/*.test.ts"] },
});
