import type { HealthReport } from './machine-service.js';

/** A live tentacle connection, as the services see it (the gateway implements it). */
export interface TentacleSession {
  readonly machineName: string;
  readonly connectedAt: Date;
  /** Closes the websocket with one of the protocol's close codes. */
  close(code: number, reason: string): void;
  /** Round-trips a health check to the tentacle. */
  healthCheck(timeoutMs: number): Promise<HealthReport>;
}

/** The live connections by machine name (case-insensitive); at most one per machine. */
export class ConnectionRegistry {
  private readonly sessions = new Map<string, TentacleSession>();

  /** Adds a session; returns the one it replaces, if any (the caller closes it). */
  add(session: TentacleSession): TentacleSession | null {
    const key = session.machineName.toLowerCase();
    const previous = this.sessions.get(key) ?? null;
    this.sessions.set(key, session);
    return previous;
  }

  /** Removes the session if it is still the current one for its machine. */
  remove(session: TentacleSession): boolean {
    const key = session.machineName.toLowerCase();
    if (this.sessions.get(key) !== session) return false;
    this.sessions.delete(key);
    return true;
  }

  /** Closes the machine's session and forgets it at once (revoked, disabled, replaced). */
  disconnect(name: string, code: number, reason: string): void {
    const session = this.get(name);
    if (!session) return;
    this.sessions.delete(name.toLowerCase());
    session.close(code, reason);
  }

  get(name: string): TentacleSession | null {
    return this.sessions.get(name.toLowerCase()) ?? null;
  }

  all(): TentacleSession[] {
    return [...this.sessions.values()];
  }
}
