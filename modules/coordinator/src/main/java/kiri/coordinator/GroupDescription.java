package kiri.coordinator;

import java.util.List;

/**
 * DescribeGroups view of one group. Members carry metadata and assignment only while the group is
 * Stable (as Kafka reports them). A missing group has {@code error} GROUP_ID_NOT_FOUND and state "Dead".
 */
public record GroupDescription(short error, String groupId, String state, String protocolType, String protocolName,
                               List<MemberDescription> members) {
    /** A member of the group. */
    public record MemberDescription(String memberId, String groupInstanceId, String clientId, String clientHost,
                                    byte[] metadata, byte[] assignment) {
    }
}
