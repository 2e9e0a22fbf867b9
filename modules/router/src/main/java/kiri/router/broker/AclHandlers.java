package kiri.router.broker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.CreateAclsRequest;
import kiri.protocol.message.CreateAclsResponse;
import kiri.protocol.message.DeleteAclsRequest;
import kiri.protocol.message.DeleteAclsResponse;
import kiri.protocol.message.DescribeAclsRequest;
import kiri.protocol.message.DescribeAclsResponse;
import kiri.router.Handler;
import kiri.router.security.AclFilter;
import kiri.router.security.AclOperation;
import kiri.router.security.SecurityStore;
import kiri.storage.api.AclEntry;

/**
 * CreateAcls, DescribeAcls and DeleteAcls (what {@code kafka-acls} and {@code Admin.createAcls} use) over the
 * {@link SecurityStore}: CLUSTER ALTER to change ACLs, CLUSTER DESCRIBE to list them, as Kafka checks. Without an
 * authorizer they answer SECURITY_DISABLED, as Kafka does.
 */
final class AclHandlers {
    private static final String NO_AUTHORIZER = "No Authorizer is configured.";

    private AclHandlers() {
    }

    static Handler describe(BrokerState broker) {
        return (context, message) -> {
            DescribeAclsRequest r = (DescribeAclsRequest) message;
            DescribeAclsResponse response = new DescribeAclsResponse();
            ErrorCode refused = refusal(broker, context, AclOperation.DESCRIBE);
            AclFilter filter = new AclFilter(r.resourceTypeFilter(), r.resourceNameFilter(), r.patternTypeFilter(),
                    r.principalFilter(), r.hostFilter(), r.operation(), r.permissionType());
            if (refused == null && filter.invalid() != null) {
                return CompletableFuture.completedFuture(response.setErrorCode(ErrorCode.INVALID_REQUEST.code())
                        .setErrorMessage(filter.invalid()));
            }
            if (refused != null) {
                return CompletableFuture.completedFuture(response.setErrorCode(refused.code())
                        .setErrorMessage(refused == ErrorCode.SECURITY_DISABLED ? NO_AUTHORIZER : refused.message()));
            }
            Map<String, DescribeAclsResponse.DescribeAclsResource> resources = new LinkedHashMap<>();
            for (AclEntry acl : broker.security().state().acls()) {
                if (filter.matches(acl)) {
                    resources.computeIfAbsent(acl.resourceType() + "\0" + acl.patternType() + "\0" + acl.resourceName(),
                            k -> new DescribeAclsResponse.DescribeAclsResource().setResourceType(acl.resourceType())
                                    .setResourceName(acl.resourceName()).setPatternType(acl.patternType()))
                            .acls().add(new DescribeAclsResponse.AclDescription().setPrincipal(acl.principal())
                                    .setHost(acl.host()).setOperation(acl.operation()).setPermissionType(acl.permissionType()));
                }
            }
            response.resources().addAll(resources.values());
            return CompletableFuture.completedFuture(response);
        };
    }

    static Handler create(BrokerState broker) {
        return (context, message) -> {
            List<CreateAclsRequest.AclCreation> creations = ((CreateAclsRequest) message).creations();
            ErrorCode refused = refusal(broker, context, AclOperation.ALTER);
            List<AclEntry> entries = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            for (CreateAclsRequest.AclCreation c : creations) {
                AclEntry e = new AclEntry(c.resourceType(), c.resourceName(), c.resourcePatternType(), c.principal(),
                        c.host(), c.operation(), c.permissionType());
                entries.add(e);
                problems.add(AclFilter.invalid(e));
            }
            if (refused != null) {
                return CompletableFuture.completedFuture(results(creations.size(), i -> refused,
                        i -> refused == ErrorCode.SECURITY_DISABLED ? NO_AUTHORIZER : refused.message()));
            }
            return broker.security().update(state -> {
                List<AclEntry> next = new ArrayList<>(state.acls());
                for (int i = 0; i < entries.size(); i++) {
                    if (problems.get(i) == null && !next.contains(entries.get(i))) {
                        next.add(entries.get(i));
                    }
                }
                CreateAclsResponse response = results(entries.size(),
                        i -> problems.get(i) == null ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST, problems::get);
                return new SecurityStore.Change<>(next.size() == state.acls().size() ? state : state.withAcls(next), response);
            }).exceptionally(failure -> results(creations.size(), i -> ErrorCode.forCode(Futures.errorCode(failure)),
                    i -> failure.getMessage()));
        };
    }

    private static CreateAclsResponse results(int n, java.util.function.IntFunction<ErrorCode> code,
            java.util.function.IntFunction<String> why) {
        CreateAclsResponse response = new CreateAclsResponse();
        for (int i = 0; i < n; i++) {
            ErrorCode c = code.apply(i);
            response.results().add(new CreateAclsResponse.AclCreationResult().setErrorCode(c.code())
                    .setErrorMessage(c == ErrorCode.NONE ? null : why.apply(i)));
        }
        return response;
    }

    static Handler delete(BrokerState broker) {
        return (context, message) -> {
            List<DeleteAclsRequest.DeleteAclsFilter> filters = ((DeleteAclsRequest) message).filters();
            ErrorCode refused = refusal(broker, context, AclOperation.ALTER);
            if (refused != null) {
                DeleteAclsResponse response = new DeleteAclsResponse();
                for (int i = 0; i < filters.size(); i++) {
                    response.filterResults().add(new DeleteAclsResponse.DeleteAclsFilterResult().setErrorCode(refused.code())
                            .setErrorMessage(refused == ErrorCode.SECURITY_DISABLED ? NO_AUTHORIZER : refused.message()));
                }
                return CompletableFuture.completedFuture(response);
            }
            return broker.security().update(state -> {
                List<AclEntry> next = new ArrayList<>(state.acls());
                DeleteAclsResponse response = new DeleteAclsResponse();
                for (DeleteAclsRequest.DeleteAclsFilter f : filters) {
                    AclFilter filter = new AclFilter(f.resourceTypeFilter(), f.resourceNameFilter(), f.patternTypeFilter(),
                            f.principalFilter(), f.hostFilter(), f.operation(), f.permissionType());
                    DeleteAclsResponse.DeleteAclsFilterResult result = new DeleteAclsResponse.DeleteAclsFilterResult();
                    if (filter.invalid() != null) {
                        response.filterResults().add(result.setErrorCode(ErrorCode.INVALID_REQUEST.code())
                                .setErrorMessage(filter.invalid()));
                        continue;
                    }
                    for (AclEntry acl : List.copyOf(next)) {
                        if (filter.matches(acl)) {
                            next.remove(acl);
                            result.matchingAcls().add(new DeleteAclsResponse.DeleteAclsMatchingAcl()
                                    .setResourceType(acl.resourceType()).setResourceName(acl.resourceName())
                                    .setPatternType(acl.patternType()).setPrincipal(acl.principal()).setHost(acl.host())
                                    .setOperation(acl.operation()).setPermissionType(acl.permissionType())
                                    .setErrorMessage(null));
                        }
                    }
                    response.filterResults().add(result.setErrorMessage(null));
                }
                return new SecurityStore.Change<>(next.size() == state.acls().size() ? state : state.withAcls(next), response);
            });
        };
    }

    /** SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED without {@code operation} on the cluster. */
    private static ErrorCode refusal(BrokerState broker, kiri.router.RequestContext context, AclOperation operation) {
        if (!broker.authorizer().enabled()) {
            return ErrorCode.SECURITY_DISABLED;
        }
        return broker.allowedCluster(context, operation) ? null : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    }
}
