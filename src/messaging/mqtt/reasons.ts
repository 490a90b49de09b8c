/**
 * MQTT 5 reason codes the broker sends (OASIS MQTT 5.0 §2.4), and the MQTT 3.1.1 CONNACK
 * return codes they fall back to.
 */
export const Reason = {
  success: 0x00,
  grantedQos1: 0x01,
  disconnectWithWill: 0x04,
  noMatchingSubscribers: 0x10,
  unspecified: 0x80,
  malformed: 0x81,
  protocolError: 0x82,
  implementationSpecific: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdInUse: 0x91,
  packetIdNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  serverShuttingDown: 0x8b,
  connectionRateExceeded: 0x9f,
  sharedSubscriptionsNotSupported: 0x9e,
} as const;

/** MQTT 3.1/3.1.1 CONNACK return codes. */
export const ReturnCode = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** The 3.1.1 return code closest to an MQTT 5 CONNACK reason. */
export function returnCodeOf(reason: number): number {
  switch (reason) {
    case Reason.success:
      return ReturnCode.accepted;
    case Reason.unsupportedProtocolVersion:
      return ReturnCode.unacceptableProtocolVersion;
    case Reason.clientIdNotValid:
      return ReturnCode.identifierRejected;
    case Reason.serverUnavailable:
    case Reason.serverBusy:
      return ReturnCode.serverUnavailable;
    case Reason.badUserNameOrPassword:
      return ReturnCode.badUserNameOrPassword;
    default:
      return ReturnCode.notAuthorized;
  }
}
