// The scripts (`npm run simulate`, `npm run origin`) read .dev.vars as wrangler does: a quoted
// value is the text inside the quotes. A hand-written regex kept the quotes, so every simulated
// webhook was signed with the wrong secret and answered 401.
import { describe, expect, it } from "vitest";
import { devVarIn } from "../scripts/dev-vars";

describe("reading .dev.vars", () => {
  it.each([
    ['PORTONE_SECRET_KEY="my key"', "my key"],
    ["PORTONE_SECRET_KEY='my key'", "my key"],
    ["PORTONE_SECRET_KEY=PORTONE_SECRET", "PORTONE_SECRET"],
    ["PORTONE_SECRET_KEY=PORTONE_SECRET # a comment", "PORTONE_SECRET"],
    ['export PORTONE_SECRET_KEY="a,b"', "a,b"],
    ['# PORTONE_SECRET_KEY=commented\nPORTONE_SECRET_KEY="real"', "real"],
    ["FORWARD_SIGNING_SECRET=whsec_x\r\nPORTONE_SECRET_KEY=crlf\r\n", "crlf"],
  ])("%j gives %j", (text, expected) => {
    expect(devVarIn(text, "PORTONE_SECRET_KEY")).toBe(expected);
  });

  it("an unset or empty variable is null", () => {
    expect(devVarIn("OTHER=1", "PORTONE_SECRET_KEY")).toBeNull();
    expect(devVarIn('PORTONE_SECRET_KEY=""', "PORTONE_SECRET_KEY")).toBeNull();
  });
});
