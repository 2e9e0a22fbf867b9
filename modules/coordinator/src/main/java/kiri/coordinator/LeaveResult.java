package kiri.coordinator;

import java.util.List;

/** A LeaveGroup answer: a request-level error, and one entry per member asked to leave (v3+ batches). */
public record LeaveResult(short error, List<MemberLeave> members) {
    /** One member's outcome. */
    public record MemberLeave(String memberId, String groupInstanceId, short error) {
    }
}
