// Types for what scripts/provider-vectors.mjs exports to scripts/simulate.ts.

export interface SimulatedVector {
  readonly scheme: string;
  readonly source: string;
  readonly expect: ReadonlyArray<{ readonly type: string; readonly kind: string; readonly object_ref: string }>;
  readonly api?: { readonly path: string };
}

export interface Simulated {
  /** Where it was posted (a route token shown as …). */
  readonly url: string;
  readonly vector: SimulatedVector;
  readonly status: number;
  readonly text: string;
}

export function simulateScheme(base: string, scheme: string): Promise<Simulated>;
