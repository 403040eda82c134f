// The live state of one configured provider, shared by its chat and image sides: the circuit, the requests
// in flight (for least-loaded balancing) and the async image jobs running on it. GET /v1/providers shows it.
import type { ProviderKind, ProviderSpec } from '../config-file.ts';
import { Circuit, type CircuitView } from './circuit.ts';
import type { Member } from './balancer.ts';

export interface ProviderView extends CircuitView {
  name: string;
  kinds: ProviderKind[];
  /** The public model ids it serves; `any_model` when it takes any name. */
  models: string[];
  any_model: boolean;
  weight: number;
  in_flight: number;
  jobs: { running: number; max_concurrency: number };
}

export class ProviderState implements Member {
  readonly spec: ProviderSpec;
  readonly circuit: Circuit;
  inFlight = 0;
  /** Async image jobs this instance runs on the provider now (the job runner keeps it). */
  jobsRunning = 0;

  constructor(spec: ProviderSpec, circuit: Circuit) {
    this.spec = spec;
    this.circuit = circuit;
  }

  get name(): string {
    return this.spec.name;
  }

  get weight(): number {
    return this.spec.weight;
  }

  /** Whether an async job may start here now (the job runner's bound, per instance). */
  get hasJobSlot(): boolean {
    return this.jobsRunning < this.spec.maxConcurrency;
  }

  view(): ProviderView {
    return {
      name: this.spec.name,
      kinds: this.spec.kinds,
      models: this.spec.models.map((m) => m.id),
      any_model: this.spec.anyModel,
      weight: this.spec.weight,
      ...this.circuit.view(),
      in_flight: this.inFlight,
      jobs: { running: this.jobsRunning, max_concurrency: this.spec.maxConcurrency },
    };
  }
}
