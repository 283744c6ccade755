import { describe, expect, it } from 'vitest';
import { EngineEventHub } from '../../lib/qr/engine-events.ts';

describe('given an engine event hub with listeners', () => {
  it('when a listener throws, then the others still hear the event and the error is reported', () => {
    const errors: unknown[] = [];
    const hub = new EngineEventHub((error) => errors.push(error));
    const heard: string[] = [];
    hub.on('ready', () => {
      throw new Error('boom');
    });
    hub.on('ready', ({ phoneNumber }) => heard.push(phoneNumber));
    hub.emit('ready', { phoneNumber: '34600000001' });

    expect(heard).toEqual(['34600000001']);
    expect(errors).toEqual([new Error('boom')]);
  });

  it('when a listener unsubscribes, then it hears no later event, and other events stay apart', () => {
    const hub = new EngineEventHub();
    const reasons: string[] = [];
    const off = hub.on('disconnected', ({ reason }) => reasons.push(reason));
    hub.emit('disconnected', { reason: 'transient' });
    hub.emit('ready', { phoneNumber: '34600000001' });
    off();
    hub.emit('disconnected', { reason: 'logout' });

    expect(reasons).toEqual(['transient']);
  });
});
