/** Memoizes an async factory: the first call builds, later calls share the result. */
export function once<T>(factory: () => Promise<T> | T): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    if (!value) {
      const building = Promise.resolve().then(factory);
      value = building;
      // A failed cold start may succeed on the next invocation; only this build's failure forgets it.
      building.catch(() => {
        if (value === building) value = undefined;
      });
    }
    return value;
  };
}
