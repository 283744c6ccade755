import { describe, expect, it } from 'vitest';
import { createLocalSecretBox } from '../../lib/secrets/secret-box.ts';
import type { Client } from '../../lib/tenants/client.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { freshTable } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { testClientService } from '../support/services.ts';

/**
 * The operator's changes meet background writers (the provisioner marking the assistant ready, the
 * worker flagging credentials): they are re-applied to the fresh record instead of failing with 409.
 */
describe('client changes racing background writers', () => {
  it('given the provisioner writes between the read and the write of a PATCH and a DELETE, then both still succeed', async () => {
    const { aws, tableName } = await freshTable();
    let interfere = 0;
    class RacingRepository extends ClientRepository {
      override async require(clientId: string): Promise<Client> {
        const client = await super.require(clientId);
        if (interfere > 0) {
          interfere--;
          await this.patch(clientId, { credentials_status_reason: 'background write' });
        }
        return client;
      }
    }
    const clients = new RacingRepository(aws.dynamo, tableName);
    const service = testClientService(clients, createLocalSecretBox('k'), { platformHasOpenAi: false });
    const created = await service.create({
      name: 'La Plaza',
      phone_number: '+34666777888',
      phone_number_id: '333000111',
      faqs: laPlazaFaqs,
      language: 'es',
      bot_enabled: true,
      retention_hours: 24,
    });

    interfere = 1;
    const updated = await service.update(created.id, { welcome_message: 'Hola' });
    expect(updated.welcome_message).toBe('Hola');
    const stored = await clients.get(created.id);
    expect(stored?.welcome_message).toBe('Hola');
    expect(stored?.credentials_status_reason).toBe('background write');

    interfere = 1;
    expect((await service.deactivate(created.id)).active).toBe(false);

    interfere = 5; // more interference than retries: the operator gets the 409 and may retry
    await expect(service.update(created.id, { welcome_message: 'Otra' })).rejects.toMatchObject({
      status: 409,
    });
  });
});
