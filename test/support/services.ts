import type { SecretBox } from '../../lib/secrets/secret-box.ts';
import type { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { ClientService, type ProvisionJob } from '../../lib/tenants/client-service.ts';

/** The operator's client service as tests build it: jobs collected in memory, OpenAI on or off. */
export function testClientService(
  clients: ClientRepository,
  secrets: SecretBox,
  options: { platformHasOpenAi: boolean; enqueue?: (job: ProvisionJob) => Promise<void> },
) {
  return new ClientService({
    clients,
    secrets,
    enqueueProvisioning: options.enqueue ?? (async () => undefined),
    platformHasOpenAi: async () => options.platformHasOpenAi,
    defaultModel: 'gpt-5-mini',
  });
}
