package kiri.router.security;

import kiri.storage.api.AclEntry;

/**
 * A DescribeAcls or DeleteAcls filter, matched as Kafka's AclBindingFilter: ANY matches every resource type,
 * operation and permission; a null name, principal or host matches all; pattern type ANY matches both kinds
 * (with the name compared exactly), MATCH matches every ACL that would apply to the named resource (the
 * literal name, the {@code *} wildcard, and prefixes of it), LITERAL and PREFIXED only that kind.
 */
public record AclFilter(byte resourceType, String resourceName, byte patternType, String principal, String host,
        byte operation, byte permissionType) {

    public boolean matches(AclEntry acl) {
        return (resourceType == ResourceType.ANY.code || resourceType == acl.resourceType())
                && matchesPattern(acl)
                && (principal == null || principal.equals(acl.principal()))
                && (host == null || host.equals(acl.host()))
                && (operation == AclOperation.ANY.code || operation == acl.operation())
                && (permissionType == AclPermission.ANY.code || permissionType == acl.permissionType());
    }

    private boolean matchesPattern(AclEntry acl) {
        if (patternType == PatternType.MATCH.code) {
            if (resourceName == null) {
                return true;
            }
            return acl.patternType() == PatternType.LITERAL.code
                    ? acl.resourceName().equals(resourceName) || acl.resourceName().equals("*")
                    : resourceName.startsWith(acl.resourceName());
        }
        boolean kind = patternType == PatternType.ANY.code || patternType == acl.patternType();
        return kind && (resourceName == null || resourceName.equals(acl.resourceName()));
    }

    /** Why this filter cannot be used (Kafka's INVALID_REQUEST), or null. */
    public String invalid() {
        if (ResourceType.forCode(resourceType) == ResourceType.UNKNOWN) {
            return "Invalid resource type in filter";
        }
        if (PatternType.forCode(patternType) == PatternType.UNKNOWN) {
            return "Invalid pattern type in filter";
        }
        if (AclOperation.forCode(operation) == AclOperation.UNKNOWN) {
            return "Invalid operation in filter";
        }
        if (AclPermission.forCode(permissionType) == AclPermission.UNKNOWN) {
            return "Invalid permission type in filter";
        }
        return null;
    }

    /** Why {@code acl} cannot be created (Kafka's INVALID_REQUEST), or null. */
    public static String invalid(AclEntry acl) {
        ResourceType type = ResourceType.forCode(acl.resourceType());
        if (type == ResourceType.UNKNOWN || type == ResourceType.ANY) {
            return "Invalid resource type: " + acl.resourceType();
        }
        if (acl.patternType() != PatternType.LITERAL.code && acl.patternType() != PatternType.PREFIXED.code) {
            return "Invalid patternType " + acl.patternType();
        }
        AclOperation op = AclOperation.forCode(acl.operation());
        if (op == AclOperation.UNKNOWN || op == AclOperation.ANY) {
            return "Invalid operation " + acl.operation();
        }
        if (acl.permissionType() != AclPermission.ALLOW.code && acl.permissionType() != AclPermission.DENY.code) {
            return "Invalid permissionType " + acl.permissionType();
        }
        if (acl.resourceName().isEmpty()) {
            return "Resource name should not be empty";
        }
        if (type == ResourceType.CLUSTER && !acl.resourceName().equals(ResourceType.CLUSTER_NAME)) {
            return "The only valid name for the CLUSTER resource is " + ResourceType.CLUSTER_NAME;
        }
        try {
            KafkaPrincipal.parse(acl.principal());
        } catch (IllegalArgumentException e) {
            return "Could not parse principal from `" + acl.principal() + "` (no colon is present separating the principal type from the principal name)";
        }
        if (acl.host().isEmpty()) {
            return "Invalid host";
        }
        return null;
    }
}
