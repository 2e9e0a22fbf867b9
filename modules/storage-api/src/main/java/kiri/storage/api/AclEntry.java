package kiri.storage.api;

import java.util.Objects;

/**
 * One ACL binding, in Kafka's codes: resource type (2 TOPIC, 3 GROUP, 4 CLUSTER, 5 TRANSACTIONAL_ID, 6
 * DELEGATION_TOKEN, 7 USER), pattern type (3 LITERAL, 4 PREFIXED), principal ({@code User:alice}, {@code
 * User:*}), host ({@code *} or an address), operation (2 ALL ... 14 IDEMPOTENT_WRITE) and permission (2 DENY,
 * 3 ALLOW). Immutable; what the codes mean is the authorizer's business, storage only keeps them.
 */
public record AclEntry(byte resourceType, String resourceName, byte patternType, String principal, String host,
        byte operation, byte permissionType) {
    public AclEntry {
        Objects.requireNonNull(resourceName, "resourceName");
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(host, "host");
    }
}
