/**
 * The built-in WhatsApp simulator: a stand-in for the Graph API (`/{version}/{phone_number_id}/messages`,
 * media lookups) that records what the product sends, plus the customer's side: Meta-shaped,
 * Meta-serialized, signed webhook deliveries and a chat page at `/simulator` where a person writes as a
 * customer. The local stack mounts {@link WhatsAppSimulator.handle} on its own HTTP server; tests use
 * {@link startStandaloneSimulator} as a fake Graph server.
 *
 * Its parts live in ./simulator/ (one file each: the Graph stand-in and its endpoints, the inbound
 * payload builders, the chat page and its API, the router that composes them); this module is the
 * stable import path.
 */

export { DEMO_TEMPLATES, type SimulatedTemplate } from './simulator/graph-templates.ts';
export {
  buildInboundPayload,
  buildStatusPayload,
  deriveUserId,
  type InboundMessageInput,
  type SignedDelivery,
  type StatusInput,
  serializeLikeMeta,
  signDelivery,
  simulatedMessageId,
} from './simulator/inbound-payloads.ts';
export { createWhatsAppSimulator } from './simulator/simulator.ts';
export { type StandaloneSimulator, startStandaloneSimulator } from './simulator/standalone.ts';
export type {
  ConversationItem,
  GraphCall,
  GraphFault,
  GraphOperation,
  SimulatedInbound,
  SimulatedOutbound,
  SimulatedRead,
  SimulatorBusiness,
  SimulatorOptions,
  SimulatorPart,
  WhatsAppSimulator,
} from './simulator/types.ts';
