package kiri.router.broker;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.coordinator.GroupCoordinator;
import kiri.coordinator.GroupDescription;
import kiri.coordinator.JoinRequest;
import kiri.coordinator.JoinResult;
import kiri.coordinator.LeaveResult;
import kiri.coordinator.Protocol;
import kiri.coordinator.SyncRequest;
import kiri.coordinator.SyncResult;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.DeleteGroupsRequest;
import kiri.protocol.message.DeleteGroupsResponse;
import kiri.protocol.message.DescribeGroupsRequest;
import kiri.protocol.message.DescribeGroupsResponse;
import kiri.protocol.message.HeartbeatRequest;
import kiri.protocol.message.HeartbeatResponse;
import kiri.protocol.message.JoinGroupRequest;
import kiri.protocol.message.JoinGroupResponse;
import kiri.protocol.message.LeaveGroupRequest;
import kiri.protocol.message.LeaveGroupResponse;
import kiri.protocol.message.ListGroupsRequest;
import kiri.protocol.message.ListGroupsResponse;
import kiri.protocol.message.SyncGroupRequest;
import kiri.protocol.message.SyncGroupResponse;
import kiri.router.Handler;
import kiri.router.security.AclOperation;
import kiri.router.RequestContext;

/**
 * The classic group membership APIs, translated to and from the {@link GroupCoordinator}:
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups.
 * Request bytes (member metadata, assignments) are copied: the coordinator keeps them beyond the request.
 */
final class GroupHandlers {
    private GroupHandlers() {
    }

    static byte[] copy(MemorySegment segment) {
        return segment == null ? new byte[0] : segment.toArray(ValueLayout.JAVA_BYTE);
    }

    static MemorySegment segment(byte[] bytes) {
        return MemorySegment.ofArray(bytes == null ? new byte[0] : bytes);
    }

    /** The client's address as Kafka reports it in group descriptions ("/127.0.0.1"). */
    static String clientHost(RequestContext context) {
        InetSocketAddress remote = context.connection().remoteAddress();
        return remote == null ? "" : "/" + remote.getAddress().getHostAddress();
    }

    static Handler joinGroup(GroupCoordinator coordinator) {
        return (context, message) -> {
            JoinGroupRequest request = (JoinGroupRequest) message;
            short version = context.version();
            List<Protocol> protocols = new ArrayList<>(request.protocols().size());
            for (JoinGroupRequest.JoinGroupRequestProtocol p : request.protocols()) {
                protocols.add(new Protocol(p.name(), copy(p.metadata())));
            }
            JoinRequest join = new JoinRequest(request.groupId(), request.memberId(), request.groupInstanceId(),
                    request.protocolType(), protocols, request.sessionTimeoutMs(), request.rebalanceTimeoutMs(),
                    context.clientId(), clientHost(context), version >= 4 && request.groupInstanceId() == null);
            return coordinator.join(join).thenApply(r -> {
                JoinGroupResponse response = new JoinGroupResponse().setErrorCode(r.error())
                        .setGenerationId(r.generationId())
                        .setProtocolType(r.protocolType())
                        .setProtocolName(r.protocolName() == null && version < 7 ? "" : r.protocolName())
                        .setLeader(r.leader() == null ? "" : r.leader())
                        .setSkipAssignment(r.skipAssignment())
                        .setMemberId(r.memberId());
                for (JoinResult.JoinedMember m : r.members()) {
                    response.members().add(new JoinGroupResponse.JoinGroupResponseMember().setMemberId(m.memberId())
                            .setGroupInstanceId(m.groupInstanceId()).setMetadata(segment(m.metadata())));
                }
                return response;
            });
        };
    }

    static Handler syncGroup(GroupCoordinator coordinator) {
        return (context, message) -> {
            SyncGroupRequest request = (SyncGroupRequest) message;
            Map<String, byte[]> assignments = new LinkedHashMap<>();
            for (SyncGroupRequest.SyncGroupRequestAssignment a : request.assignments()) {
                assignments.put(a.memberId(), copy(a.assignment()));
            }
            SyncRequest sync = new SyncRequest(request.groupId(), request.generationId(), request.memberId(),
                    request.groupInstanceId(), request.protocolType(), request.protocolName(), assignments);
            return coordinator.sync(sync).thenApply((SyncResult r) -> new SyncGroupResponse().setErrorCode(r.error())
                    .setProtocolType(r.protocolType()).setProtocolName(r.protocolName())
                    .setAssignment(segment(r.assignment())));
        };
    }

    static Handler heartbeat(GroupCoordinator coordinator) {
        return (context, message) -> {
            HeartbeatRequest request = (HeartbeatRequest) message;
            return coordinator.heartbeat(request.groupId(), request.memberId(), request.groupInstanceId(),
                    request.generationId()).thenApply(error -> new HeartbeatResponse().setErrorCode(error));
        };
    }

    static Handler leaveGroup(GroupCoordinator coordinator) {
        return (context, message) -> {
            LeaveGroupRequest request = (LeaveGroupRequest) message;
            boolean batched = context.version() >= 3;
            List<GroupCoordinator.Leaving> leaving = new ArrayList<>();
            if (batched) {
                for (LeaveGroupRequest.MemberIdentity m : request.members()) {
                    leaving.add(new GroupCoordinator.Leaving(m.memberId(), m.groupInstanceId()));
                }
            } else {
                leaving.add(new GroupCoordinator.Leaving(request.memberId(), null));
            }
            return coordinator.leave(request.groupId(), leaving).thenApply((LeaveResult r) -> {
                LeaveGroupResponse response = new LeaveGroupResponse();
                if (!batched) {
                    short error = r.error() != ErrorCode.NONE.code() ? r.error()
                            : r.members().isEmpty() ? ErrorCode.NONE.code() : r.members().getFirst().error();
                    return response.setErrorCode(error);
                }
                response.setErrorCode(r.error());
                if (r.error() == ErrorCode.NONE.code()) {
                    for (LeaveResult.MemberLeave m : r.members()) {
                        response.members().add(new LeaveGroupResponse.MemberResponse().setMemberId(m.memberId())
                                .setGroupInstanceId(m.groupInstanceId()).setErrorCode(m.error()));
                    }
                }
                return response;
            });
        };
    }

    static Handler describeGroups(GroupCoordinator coordinator, BrokerState broker) {
        return (context, message) -> {
            DescribeGroupsRequest request = (DescribeGroupsRequest) message;
            short version = context.version();
            List<CompletionStage<DescribeGroupsResponse.DescribedGroup>> results = new ArrayList<>();
            for (String groupId : request.groups()) {
                if (!broker.allowedGroup(context, AclOperation.DESCRIBE, groupId)) {
                    results.add(done(new DescribeGroupsResponse.DescribedGroup().setGroupId(groupId)
                            .setErrorCode(ErrorCode.GROUP_AUTHORIZATION_FAILED.code())));
                    continue;
                }
                results.add(coordinator.describe(groupId).thenApply(d -> described(d, version)));
            }
            return Futures.all(results).thenApply(list -> {
                DescribeGroupsResponse response = new DescribeGroupsResponse();
                response.groups().addAll(list);
                return response;
            });
        };
    }

    private static DescribeGroupsResponse.DescribedGroup described(GroupDescription d, short version) {
        DescribeGroupsResponse.DescribedGroup g = new DescribeGroupsResponse.DescribedGroup().setGroupId(d.groupId())
                .setGroupState(d.state()).setProtocolType(d.protocolType()).setProtocolData(d.protocolName())
                .setAuthorizedOperations(Integer.MIN_VALUE);
        short error = d.error();
        if (error == ErrorCode.GROUP_ID_NOT_FOUND.code()) {
            if (version >= 6) {
                g.setErrorCode(error).setErrorMessage("Group " + d.groupId() + " not found.");
            } // older versions report a missing group as Dead without an error, as Kafka does
        } else {
            g.setErrorCode(error);
        }
        for (GroupDescription.MemberDescription m : d.members()) {
            g.members().add(new DescribeGroupsResponse.DescribedGroupMember().setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId()).setClientId(m.clientId()).setClientHost(m.clientHost())
                    .setMemberMetadata(segment(m.metadata())).setMemberAssignment(segment(m.assignment())));
        }
        return g;
    }

    /** ListGroups: every group with DESCRIBE on the cluster, else only the groups the principal may describe. */
    static Handler listGroups(GroupCoordinator coordinator, BrokerState broker) {
        return (context, message) -> {
            ListGroupsRequest request = (ListGroupsRequest) message;
            List<String> states = context.version() >= 4 ? request.statesFilter() : List.of();
            List<String> types = context.version() >= 5 ? request.typesFilter() : List.of();
            return coordinator.list(states, types).handle((groups, failure) -> {
                ListGroupsResponse response = new ListGroupsResponse();
                if (failure != null) return response.setErrorCode(Futures.errorCode(failure));
                boolean all = broker.allowedCluster(context, AclOperation.DESCRIBE);
                for (var g : groups) {
                    if (!all && !broker.allowedGroup(context, AclOperation.DESCRIBE, g.groupId())) {
                        continue;
                    }
                    response.groups().add(new ListGroupsResponse.ListedGroup().setGroupId(g.groupId())
                            .setProtocolType(g.protocolType()).setGroupState(g.state()).setGroupType(g.type()));
                }
                return response;
            });
        };
    }

    static Handler deleteGroups(GroupCoordinator coordinator, BrokerState broker) {
        return (context, message) -> {
            DeleteGroupsRequest request = (DeleteGroupsRequest) message;
            List<CompletionStage<DeleteGroupsResponse.DeletableGroupResult>> results = new ArrayList<>();
            for (String groupId : request.groupsNames()) {
                if (!broker.allowedGroup(context, AclOperation.DELETE, groupId)) {
                    results.add(done(new DeleteGroupsResponse.DeletableGroupResult().setGroupId(groupId)
                            .setErrorCode(ErrorCode.GROUP_AUTHORIZATION_FAILED.code())));
                    continue;
                }
                results.add(coordinator.delete(groupId).thenApply(error ->
                        new DeleteGroupsResponse.DeletableGroupResult().setGroupId(groupId).setErrorCode(error)));
            }
            return Futures.all(results).thenApply(list -> {
                DeleteGroupsResponse response = new DeleteGroupsResponse();
                response.results().addAll(list);
                return response;
            });
        };
    }

    static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
