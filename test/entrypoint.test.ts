// workerd refuses to start a Worker whose main module exports anything but handlers and classes
// (a constant exported from src/index.ts once broke `npm run dev` while every other test passed).
import { describe, expect, it } from "vitest";
import * as main from "../src/index";

describe("the main module", () => {
  it("exports only the fetch handler and Durable Object classes", () => {
    for (const [name, value] of Object.entries(main)) {
      const isHandler = typeof value === "object" && value !== null && "fetch" in value;
      expect(typeof value === "function" || isHandler, `export ${name}`).toBe(true);
    }
  });
});
