/** Sharing one in-flight read among the metrics of one scrape (prom-client collects them concurrently). */
export function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined
  return () =>
    (inflight ??= read().finally(() => {
      inflight = undefined
    }))
}
