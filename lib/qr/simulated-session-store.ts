/** What a simulated session keeps between runs: the account it is linked to. */
export interface SimulatedSavedSession {
  phoneNumber: string;
  savedAt: Date;
}

/**
 * The simulated engine's saved sessions, in memory, one per tenant: what the S3 snapshot store is to
 * whatsapp-web.js. Shared by every engine of one simulated network, so a session saved by one engine
 * is restored by the next (a task restart).
 */
export class SimulatedSessionStore {
  private readonly sessions = new Map<string, SimulatedSavedSession>();

  load(tenantId: string): SimulatedSavedSession | undefined {
    return this.sessions.get(tenantId);
  }

  save(tenantId: string, session: SimulatedSavedSession): void {
    this.sessions.set(tenantId, session);
  }

  delete(tenantId: string): void {
    this.sessions.delete(tenantId);
  }
}
