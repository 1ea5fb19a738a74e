// `npm run dev -- --persist-to DIR` once applied the read model's migrations to wrangler's default
// folder and then served from DIR, whose D1 had no tables: every snapshot failed with "no such table".
import { describe, expect, it } from "vitest";
import { persistTo } from "../scripts/dev-args.mjs";

describe("npm run dev's state folder", () => {
  it("is the --persist-to passed through, in either form, before DEV_PERSIST_TO", () => {
    expect(persistTo(["--persist-to", "/tmp/a"], "/tmp/env")).toEqual({ folder: "/tmp/a", passed: true });
    expect(persistTo(["--port", "8788", "--persist-to=/tmp/b"], undefined)).toEqual({ folder: "/tmp/b", passed: true });
  });

  it("is DEV_PERSIST_TO without the flag, and wrangler's default without either", () => {
    expect(persistTo(["--port", "8788"], "/tmp/env")).toEqual({ folder: "/tmp/env", passed: false });
    expect(persistTo([], undefined)).toBeNull();
    expect(persistTo([], "")).toBeNull();
  });
});
