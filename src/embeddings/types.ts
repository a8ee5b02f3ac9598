/** Turns texts into vectors; one model, one dimension, always batched. */
export interface Embedder {
  /** The model that makes the vectors (recorded with each vector; two models never share a collection). */
  readonly model: string;
  readonly dimension: number;
  /** One vector per text, in order. Throws an {@link EmbedderError} when the provider cannot answer. */
  embed(texts: string[]): Promise<number[][]>;
  /** Releases workers or connections. */
  close?(): Promise<void>;
}

export type EmbedderErrorCode = 'unavailable' | 'model_missing' | 'bad_response';

/** Why an embedder could not answer; `unavailable` is worth retrying, the others are not. */
export class EmbedderError extends Error {
  override readonly name = 'EmbedderError';
  constructor(
    readonly code: EmbedderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
