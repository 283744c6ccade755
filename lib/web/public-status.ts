import { type Client, connectionStatus, type QrLink } from '../tenants/client.ts';

/**
 * What anyone with a tenant's landing link may see: the business name and whether the service works
 * (active, channel, connected, assistant ready). Nothing about customers or messages.
 */
export function publicStatus(client: Client, qr?: QrLink) {
  const connection = connectionStatus(client, new Date(), qr);
  return {
    name: client.name,
    language: client.language,
    active: client.active,
    channel: client.channel ?? 'cloud_api',
    connected: connection.state === 'connected',
    assistant_ready: client.assistant.status === 'ready',
    assistant_status: client.assistant.status,
  };
}

export type PublicStatus = ReturnType<typeof publicStatus>;
