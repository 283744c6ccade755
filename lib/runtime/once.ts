/** Memoizes an async factory: the first call builds, later calls share the result. */
export function once<T>(factory: () => Promise<T> | T): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= Promise.resolve().then(factory);
    value.catch(() => {
      value = undefined; // a failed cold start may succeed on the next invocation
    });
    return value;
  };
}
