// Lint: typescript-eslint's type-checked rules. The rules of structure (folders import downwards,
// no circle, type imports counted) are dependency-cruiser's: .dependency-cruiser.cjs, `npm run imports`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".wrangler/", "worker-env.d.ts", "bench/", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // The Worker's bindings and entry come from cloudflare:workers, as in production code.
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "cloudflare:test",
              importNames: ["env", "SELF"],
              message: "Import env and exports from cloudflare:workers, not cloudflare:test.",
            },
          ],
        },
      ],
    },
  },
);
