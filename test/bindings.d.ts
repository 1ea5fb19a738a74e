// Bindings only the tests have: the read model's migrations, read in Node by vitest.config.ts.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** The mark `npm run dev` sets, and the tests too (src/config/examples.ts). */
    LOCAL_DEV?: string;
  }
}
