package kiri.coordinator;

import java.util.List;
import java.util.Objects;

/**
 * A JoinGroup request. {@code memberId} is "" for a member without an id yet; {@code groupInstanceId}
 * is null for dynamic members. {@code requireKnownMemberId}: JoinGroup v4+ from a dynamic member, which
 * first gets MEMBER_ID_REQUIRED with its new id and must join again with it.
 * {@code rebalanceTimeoutMs} of -1 (JoinGroup v0) means the session timeout.
 */
public record JoinRequest(String groupId, String memberId, String groupInstanceId, String protocolType,
                          List<Protocol> protocols, int sessionTimeoutMs, int rebalanceTimeoutMs, String clientId,
                          String clientHost, boolean requireKnownMemberId) {
    public JoinRequest {
        Objects.requireNonNull(groupId, "groupId");
        memberId = memberId == null ? "" : memberId;
        protocolType = protocolType == null ? "" : protocolType;
        protocols = List.copyOf(protocols);
        clientId = clientId == null ? "" : clientId;
        clientHost = clientHost == null ? "" : clientHost;
        if (rebalanceTimeoutMs < 0) rebalanceTimeoutMs = sessionTimeoutMs;
    }
}
