// The one way tests build an environment: the Worker's test bindings (vitest.config.ts) with some
// variables changed, or unset (undefined) as a deployment that never set them has them.
import { env } from "cloudflare:workers";

export type EnvOverrides = { [K in keyof Env]?: Env[K] | undefined };

export function testEnv(overrides: EnvOverrides = {}): Env {
  return { ...env, ...overrides };
}
