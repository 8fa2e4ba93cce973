// The one error translation raises: the target format cannot express something the client asked for.

export class TranslationError extends Error {
  readonly status = 400 as const;
  /** The client-side feature that could not be carried over, e.g. "n > 1" or "logprobs". */
  readonly feature: string;

  constructor(feature: string, message: string) {
    super(message);
    this.name = "TranslationError";
    this.feature = feature;
  }
}

export function unsupported(feature: string, target: string): TranslationError {
  return new TranslationError(feature, `${feature} is not supported by provider type ${target}`);
}

/** A client body that is not a valid request of its own format. */
export function invalid(feature: string, message: string): TranslationError {
  return new TranslationError(feature, message);
}
