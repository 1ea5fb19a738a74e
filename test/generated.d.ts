// The standalone validator vitest.config.ts writes to test/generated/ (scripts/event-validator.ts).
declare module "*/generated/validate-events.mjs" {
  interface ValidateFunction {
    (data: unknown): boolean;
    errors?: Array<{ instancePath: string; schemaPath: string; message?: string }> | null;
  }
  const validate: ValidateFunction;
  export default validate;
}
