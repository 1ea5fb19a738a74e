import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the Worker's real bindings (KV, Durable Objects with SQLite and
// alarms), configured from wrangler.toml. Test values of the variables are set here, not read from
// .dev.vars, so a developer's local settings never change a test's outcome.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          PORTONE_SECRET_KEY: "PORTONE_SECRET",
          MERCHANT_ORIGIN_URL: "https://merchant.test/webhooks",
          FORWARD_SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
          ADMIN_TOKEN: "test-admin-token",
          PORTONE_KEY: "test-portone-key",
          PORTONE_API_BASE_URL: "https://portone-api.test",
          ALLOWED_SOURCE_IPS: "",
          LOG_LEVEL: "info",
          SEEN_HINT: "on",
          WEBHOOK_SOURCES: JSON.stringify({
            acme: {
              scheme: "hmac",
              secret: "acme-test-secret-0123456789",
              signatureHeader: "X-Signature",
              timestampHeader: "X-Timestamp",
              encoding: "hex",
              message: "timestamp.body",
              objectRef: "data.order_id",
              status: "data.status",
              lifecycle: { order: ["created", "authorized"], terminal: ["captured", "voided"] },
            },
            bodyonly: {
              scheme: "hmac",
              secrets: ["old-secret-0123456789abcdef", "new-secret-0123456789abcdef"],
              signatureHeader: "X-Hub-Signature-256",
              signaturePrefix: "sha256=",
              encoding: "base64",
              message: "body",
              objectRef: "id",
              status: "state",
            },
            shop: {
              scheme: "standard",
              secret: "whsec_c2hvcC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5",
              objectRef: "data.id",
              status: "type",
              kind: "order",
            },
          }),
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // Quiet by default: the gateway logs every decision, and tests assert the lines that are the
    // contract (logging.test.ts, replay.test.ts). A failed test still shows what it logged.
    silent: "passed-only",
  },
});
