/**
 * Whether this API process is shutting down. From the first step of a graceful shutdown
 * (platform/shutdown.ts) /readyz answers 503 `draining`, so a load balancer that polls it stops
 * sending new requests here while the in-flight ones finish. Kept per app (its deps), not global,
 * so tests that build several apps in one process do not see each other's state.
 */
const drainingApps = new WeakSet<object>()

export function startDraining(deps: object): void {
  drainingApps.add(deps)
}

export const isDraining = (deps: object): boolean => drainingApps.has(deps)
