// Public surface of the RouterOS simulator for tests elsewhere (the RouterOS driver's
// contract tests import from here; keep these names stable).
export { startRouterOsSimulator, type RouterOsSimulator, type RouterOsSimulatorOptions } from './simulator.js';
export { RouterOsModel, type CommandRequest, type CommandResult, type HandshakeDetails, type Row } from './model.js';
export { Faults, type FaultSettings } from './faults.js';
export { RouterOsTrap, type TrapCode } from './trap.js';
export {
  ApiCodecError,
  decodeLength,
  encodeLength,
  encodeSentence,
  encodeWord,
  SentenceDecoder,
  type Sentence,
} from './api-codec.js';
export { parseCommandSentence, replySentence, type CommandSentence } from './api-sentence.js';
export { RawApiClient, type ApiReply } from './raw-api-client.js';
export { DEFAULT_LAN, UNMANAGED_INTERFACE_NAME, UNMANAGED_PEER } from './seed.js';
export { WIREGUARD, WIREGUARD_PEERS } from './menus/wireguard.js';
export { IP_ADDRESS, IP_ROUTE, IPV6_ADDRESS, IPV6_ROUTE } from './menus/ip.js';
export { FIREWALL_ADDRESS_LIST, FIREWALL_FILTER, FIREWALL_NAT, IPV6_FIREWALL_ADDRESS_LIST } from './menus/firewall.js';
export { BFD_CONFIGURATION, BGP_CONNECTION, BGP_SESSION, ROUTING_FILTER_RULE } from './menus/routing.js';
export { IP_SERVICE, SYSTEM_IDENTITY, SYSTEM_RESOURCE, USER } from './menus/system.js';
export { seedHandMadeSetup, type HandMadeOptions, type HandMadePeer, type HandMadeSetup } from './hand-made.js';
