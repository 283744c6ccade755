import type { EngineEventName, EngineEvents, EngineListener } from './session-engine.ts';

/**
 * The typed listeners of one engine. A listener that throws does not keep the others from hearing
 * the event (the error goes to `onListenerError`).
 */
export class EngineEventHub {
  private readonly listeners = new Map<EngineEventName, Set<(payload: never) => void>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => undefined) {}

  on<E extends EngineEventName>(event: E, listener: EngineListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as EngineListener<E>)(payload);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
