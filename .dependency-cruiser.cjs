// The house's rules of structure, checked by `npm run imports` (part of `npm test`) with every import
// counted, `import type` too: folders import downwards only, in the order of the flow (docs/design.md,
// "Layout"), each folder a layer of its own so no two folders can import each other; ingress and admin
// are siblings at the top that never import each other; and no file imports itself round a circle.

/** Lowest first: a folder may import only from the folders before it. */
const LAYERS = [
  "src/lib",
  "src/providers",
  "src/config",
  "src/kv",
  "src/env\\.ts",
  "src/alerts",
  "src/egress",
  "src/readmodel",
  "src/ledger",
  "src/reconcile",
  "src/(ingress|admin)",
  "src/index\\.ts",
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: "imports-downwards",
  comment: `${layer} imports only from the folders below it: ${LAYERS.slice(0, i).join(", ") || "none"}.`,
  severity: "error",
  from: { path: `^${layer}(/|$)` },
  to: { path: `^(${LAYERS.slice(i + 1).join("|")})(/|$)` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "siblings",
      comment: "ingress and admin are siblings at the top: neither imports the other.",
      severity: "error",
      from: { path: "^src/(ingress|admin)/" },
      to: { path: "^src/(ingress|admin)/", pathNot: "^src/$1/" },
    },
    {
      name: "no-circular",
      comment: "No file imports itself round a circle, through type imports as well.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // `import type` and type-only specifiers are dependencies too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js", ".mjs"] },
  },
};
