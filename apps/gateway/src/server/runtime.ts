import type { RouteTable } from './route-table.js';

/**
 * The mutable state shared by the server's handlers: the current route table (swapped by a
 * reload), the number of requests in flight and whether the instance is draining.
 */
export class GatewayRuntime {
  table: RouteTable;
  inFlight = 0;
  draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(table: RouteTable) {
    this.table = table;
  }

  begin(): void {
    this.inFlight += 1;
  }

  end(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
