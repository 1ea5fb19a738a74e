// The canonical form's two Go-compatible primitives, against the spec's rules (§2.3, §2.4, §9).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodePairs, formatAmount, queryEscape } from "../src/providers/portone/encode";

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

describe("queryEscape follows Go's url.QueryEscape", () => {
  it.each([
    ["~", "~"],
    ["*", "%2A"],
    [" ", "+"],
    ["+", "%2B"],
    ["/", "%2F"],
    ["(", "%28"],
    [")", "%29"],
    ["#", "%23"],
    ["&", "%26"],
    ["=", "%3D"],
    ["%", "%25"],
    ["!", "%21"],
    ["'", "%27"],
    ["é", "%C3%A9"],
    ["e\u0301", "e%CC%81"],
    ["주", "%EC%A3%BC"],
    ["😀", "%F0%9F%98%80"],
    ["\u00a0", "%C2%A0"],
    ["\ud800", "%EF%BF%BD"],
    ["주문 #1~*", "%EC%A3%BC%EB%AC%B8+%231~%2A"],
    ["", ""],
    ["\u0000", "%00"],
  ])("escapes %j as %s", (input, expected) => {
    expect(queryEscape(input)).toBe(expected);
  });

  it("never throws, and emits only unreserved characters, + and upper-case %XX", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(queryEscape(s)).toMatch(/^(?:[A-Za-z0-9\-._~+]|%[0-9A-F]{2})*$/);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps exactly A-Z a-z 0-9 - . _ ~, writes space as +, and %XX of every other UTF-8 byte", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const expected = [...new TextEncoder().encode(s)]
          .map((b) => {
            const ch = String.fromCharCode(b);
            if (UNRESERVED.test(ch)) return ch;
            if (b === 0x20) return "+";
            return `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
          })
          .join("");
        expect(queryEscape(s)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("is reversible: decoding gives back the UTF-8 of the input (lone surrogates as U+FFFD)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const decoded = decodeURIComponent(queryEscape(s).replaceAll("+", " "));
        // ignoreBOM: a leading U+FEFF is part of the input, not a byte-order mark to drop.
        expect(decoded).toBe(
          new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(new TextEncoder().encode(s)),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it("differs from URLSearchParams exactly where Go does: ~ and *", () => {
    const viaUrlSearchParams = new URLSearchParams({ k: "INV~7*1" }).toString();
    expect(viaUrlSearchParams).toBe("k=INV%7E7*1");
    expect(encodePairs([["k", "INV~7*1"]])).toBe("k=INV~7%2A1");
  });
});

describe("formatAmount follows Go's strconv.FormatFloat(x, 'f', -1, 64)", () => {
  it.each([
    [500, "500"],
    [500.0, "500"],
    [5e2, "500"],
    [100.25, "100.25"],
    [100.255, "100.255"],
    [0.001, "0.001"],
    [1e-7, "0.0000001"],
    [1.5e-7, "0.00000015"],
    [1e21, "1000000000000000000000"],
    [1e-6, "0.000001"],
    [1.2345e22, "12345000000000000000000"],
    [12345678901234.56, "12345678901234.56"],
    [0, "0"],
    [-0, "-0"],
    [-1e-7, "-0.0000001"],
    [-2.5e21, "-2500000000000000000000"],
    [5e-324, `0.${"0".repeat(323)}5`],
    [1.7976931348623157e308, `17976931348623157${"0".repeat(292)}`],
  ])("formats %d as %s", (input, expected) => {
    expect(formatAmount(input)).toBe(expected);
  });

  it("never throws on a finite double and never writes an exponent or a trailing zero after the point", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = formatAmount(x);
        expect(s).toMatch(/^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/);
      }),
      { numRuns: 5000 },
    );
  });

  it("reads back to the same double (shortest round trip)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Object.is(Number(formatAmount(x)), x)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees with String(x) wherever JavaScript writes plain notation", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e21, noNaN: true, maxExcluded: true }), (x) => {
        expect(formatAmount(x)).toBe(String(x));
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses non-finite numbers (Go's float64 cannot hold them)", () => {
    expect(() => formatAmount(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => formatAmount(Number.NaN)).toThrow(RangeError);
  });
});
