// Sends one upstream call to one of a model's providers: the balancer picks among those whose circuit lets
// traffic through, and a provider that turned the request away before accepting it (not-accepted.ts) hands
// it to the next. Any other failure is final: the work may have begun, and image calls are billed.
import { ApiError } from '../../lib/errors.ts';
import { wasNotAccepted } from '../not-accepted.ts';
import { Balancer } from './balancer.ts';
import type { Route } from './model-table.ts';
import type { ProviderState } from './provider-state.ts';

/** How a call ended, for the provider's health: 'abandoned' (the caller left) counts neither way. */
export type Outcome = 'ok' | 'rejected' | 'refused' | 'error' | 'abandoned';

/** Ends a call's hold on its provider; idempotent. */
export type Release = (outcome: Outcome) => void;

/** Each finished upstream call, for metrics: the provider's name, the public model, seconds taken. */
export type ObserveCall = (provider: string, model: string | undefined, seconds: number, outcome: Outcome) => void;

/** A 4xx is about the request, not the provider: the provider answered, so it is healthy. */
export function outcomeOf(error: unknown): Outcome {
  if (wasNotAccepted(error)) return 'refused';
  return error instanceof ApiError && error.status < 500 ? 'rejected' : 'error';
}

export class Router {
  private readonly balancers = new Map<string, Balancer>();
  private readonly observe: ObserveCall | undefined;

  constructor(options: { observe?: ObserveCall } = {}) {
    this.observe = options.observe;
  }

  /** Runs `call` on a route, and on the next while providers refuse it before accepting it. */
  dispatch<A, T>(routes: Route<A>[], call: (route: Route<A>) => Promise<T>): Promise<T> {
    return this.run(routes, call, (result, release) => {
      release('ok');
      return result;
    });
  }

  /**
   * The same for a call whose result keeps its provider busy after it is returned (a stream): `open` resolves
   * once the upstream has accepted, and `hold` wraps the result, calling `release` when it is done with.
   */
  dispatchHeld<A, T, U>(routes: Route<A>[], open: (route: Route<A>) => Promise<T>, hold: (opened: T, release: Release) => U): Promise<U> {
    return this.run(routes, open, hold);
  }

  private async run<A, T, U>(routes: Route<A>[], call: (route: Route<A>) => Promise<T>, then: (result: T, release: Release) => U): Promise<U> {
    const tried = new Set<string>();
    let refusal: unknown;
    for (;;) {
      const route = this.choose(routes.filter((r) => !tried.has(r.provider.name)));
      if (!route) throw refusal;
      tried.add(route.provider.name);
      const release = this.enter(route);
      let result: T;
      try {
        result = await call(route);
      } catch (error) {
        const outcome = outcomeOf(error);
        release(outcome);
        if (outcome !== 'refused') throw error;
        refusal = error;
        continue;
      }
      return then(result, release);
    }
  }

  /** The balancer's pick among routes whose circuit is not open; when all are open, among all (there is nowhere better to go). */
  private choose<A>(routes: Route<A>[]): Route<A> | undefined {
    if (routes.length <= 1) return routes[0];
    const healthy = routes.filter((r) => r.provider.circuit.available);
    const pool = healthy.length > 0 ? healthy : routes;
    const key = pool.map((r) => r.provider.name).join('\n');
    let balancer = this.balancers.get(key);
    if (!balancer) this.balancers.set(key, (balancer = new Balancer()));
    const picked = balancer.pick(pool.map((r) => r.provider));
    return pool.find((r) => r.provider === picked);
  }

  private enter<A>(route: Route<A>): Release {
    const provider: ProviderState = route.provider;
    const trial = provider.circuit.enter();
    provider.inFlight++;
    const started = performance.now();
    let released = false;
    return (outcome) => {
      if (released) return;
      released = true;
      provider.inFlight--;
      if (outcome === 'ok' || outcome === 'rejected') provider.circuit.success();
      else if (outcome === 'abandoned') {
        if (trial) provider.circuit.abandonTrial();
      }
      else provider.circuit.failure();
      this.observe?.(provider.name, route.model, (performance.now() - started) / 1000, outcome);
    };
  }
}
