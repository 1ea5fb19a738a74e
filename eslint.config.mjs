// Lint: typescript-eslint's type-checked rules, and the house's one rule of structure: folders
// import downwards only, in the order of the flow (design.md, "Recommended layout"), and no module
// imports itself round a cycle. A new upward import or a cycle fails `npm test`.
import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** Lowest first: a folder may import only from the folders before it. */
const LAYERS = [
  ["lib", ["./src/lib"]],
  ["providers", ["./src/providers"]],
  ["config, env and kv", ["./src/config", "./src/env.ts", "./src/kv"]],
  ["egress, readmodel and alerts", ["./src/egress", "./src/readmodel", "./src/alerts"]],
  ["ledger", ["./src/ledger"]],
  ["reconcile", ["./src/reconcile"]],
  ["ingress and admin", ["./src/ingress", "./src/admin"]],
  ["the Worker's entry", ["./src/index.ts"]],
];

const zones = LAYERS.flatMap(([name, targets], i) => {
  const above = LAYERS.slice(i + 1).flatMap(([, paths]) => paths);
  return above.length === 0
    ? []
    : targets.map((target) => ({
        target,
        from: above,
        message: `${name} imports only downwards (lib, providers, config/env/kv, egress/readmodel/alerts, ledger, reconcile, ingress/admin, index).`,
      }));
});
// Nothing imports ingress, not even admin (they are siblings at the top).
zones.push({ target: "./src/admin", from: ["./src/ingress"], message: "Nothing imports ingress." });
zones.push({ target: "./src/ingress", from: ["./src/admin"], message: "ingress and admin are siblings." });

export default tseslint.config(
  { ignores: ["node_modules/", ".wrangler/", "worker-env.d.ts", "bench/", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: {
      // The dependencies are parsed as TypeScript too, or no-cycle cannot follow them.
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".mjs", ".js"] })],
    },
    rules: {
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": ["error", { zones }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
