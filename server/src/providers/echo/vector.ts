// Echo's embeddings: deterministic vectors, the same for the same text in every wire family.

const DEFAULT_DIMENSIONS = 16;
const MAX_DIMENSIONS = 4096;

/** The dimensions a request asked for (OpenAI `dimensions`, Gemini `outputDimensionality`, …), within bounds. */
export function echoDimensions(requested: unknown): number {
  return typeof requested === "number" && Number.isInteger(requested) && requested > 0
    ? Math.min(requested, MAX_DIMENSIONS)
    : DEFAULT_DIMENSIONS;
}

/** A deterministic unit vector for a text: FNV-1a seeds a xorshift sequence. */
export function echoVector(text: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193);
  let x = seed >>> 0 || 1;
  const values = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const v = x / 0xffffffff - 0.5;
    values[i] = v;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) values[i] = (values[i] ?? 0) * scale;
  return values;
}
