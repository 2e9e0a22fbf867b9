package kiri.router.security;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import kiri.storage.api.AclEntry;

/**
 * ACL checks with the semantics of Kafka's StandardAuthorizer: super users may do everything; a DENY that
 * matches wins over any ALLOW; an ALLOW of an operation also allows what it implies
 * ({@link AclOperation#allowedBy}); a resource no ACL matches is allowed only with
 * {@code allow.everyone.if.no.acl.found}. An ACL matches a resource of its type by name (LITERAL, where
 * {@code *} matches every name) or by prefix (PREFIXED), a principal by equality or {@code User:*}, a host by
 * address or {@code *}. The ACLs are those of the {@link SecurityStore}, read at each check.
 *
 * <p>Threading: any thread; checks never block.
 */
public final class Authorizer {
    /** The {@code authorizer.class.name} values that turn ACLs on: Kafka's, and Kiri's own. */
    public static final Set<String> CLASS_NAMES = Set.of("org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "kafka.security.authorizer.AclAuthorizer", "kiri.router.security.Authorizer");
    private static final Authorizer ALLOW_ALL = new Authorizer(null, Set.of(), true);

    private final SecurityStore store;
    private final Set<String> superUsers;
    private final boolean allowIfNoAcl;
    /** The ACLs last indexed, and the index (per resource type code). */
    private volatile Index index = new Index(List.of(), new AclEntry[8][]);

    private record Index(List<AclEntry> source, AclEntry[][] byType) {
    }

    /**
     * @param superUsers principals as Kafka writes them in {@code super.users} ({@code User:admin})
     * @param allowIfNoAcl {@code allow.everyone.if.no.acl.found}
     */
    public Authorizer(SecurityStore store, Set<String> superUsers, boolean allowIfNoAcl) {
        this.store = store;
        this.superUsers = Set.copyOf(superUsers);
        this.allowIfNoAcl = allowIfNoAcl;
    }

    /** No authorizer configured: everything is allowed, and the ACL APIs answer SECURITY_DISABLED. */
    public static Authorizer allowAll() {
        return ALLOW_ALL;
    }

    public boolean enabled() {
        return store != null;
    }

    public boolean authorize(Session session, AclOperation operation, ResourceType type, String name) {
        Boolean decided = beforeAcls(session);
        if (decided != null) {
            return decided;
        }
        String who = session.principal().toString();
        String host = host(session.clientAddress());
        boolean anyForResource = false;
        boolean allowed = false;
        for (AclEntry acl : acls(type)) {
            if (!matchesResource(acl, name)) {
                continue;
            }
            anyForResource = true;
            if (!matchesPrincipal(acl, who) || !matchesHost(acl, host)) {
                continue;
            }
            AclOperation granted = AclOperation.forCode(acl.operation());
            if (acl.permissionType() == AclPermission.DENY.code) {
                if (granted == operation || granted == AclOperation.ALL) {
                    return false;
                }
            } else if (operation.allowedBy(granted)) {
                allowed = true;
            }
        }
        return allowed || !anyForResource && allowIfNoAcl;
    }

    public boolean authorizeCluster(Session session, AclOperation operation) {
        return authorize(session, operation, ResourceType.CLUSTER, ResourceType.CLUSTER_NAME);
    }

    /**
     * Whether the principal may do {@code operation} on SOME resource of {@code type}, as Kafka's
     * authorizeByResourceType answers it (InitProducerId of an idempotent producer: IDEMPOTENT_WRITE on the
     * cluster, or WRITE on any topic): an ALLOW of it on some resource, not cancelled by a DENY on all of them.
     */
    public boolean authorizeAny(Session session, AclOperation operation, ResourceType type) {
        Boolean decided = beforeAcls(session);
        if (decided != null) {
            return decided;
        }
        String who = session.principal().toString();
        String host = host(session.clientAddress());
        boolean allowed = false;
        for (AclEntry acl : acls(type)) {
            if (!matchesPrincipal(acl, who) || !matchesHost(acl, host)) {
                continue;
            }
            AclOperation granted = AclOperation.forCode(acl.operation());
            if (acl.permissionType() == AclPermission.DENY.code) {
                if ((granted == operation || granted == AclOperation.ALL) && acl.patternType() == PatternType.LITERAL.code
                        && acl.resourceName().equals("*")) {
                    return false;
                }
            } else if (operation.allowedBy(granted)) {
                allowed = true;
            }
        }
        return allowed || allowIfNoAcl;
    }

    /** Allowed without ACLs (no authorizer, a super user), refused (not authenticated), or null: ask the ACLs. */
    private Boolean beforeAcls(Session session) {
        if (store == null) {
            return true;
        }
        KafkaPrincipal principal = session.principal();
        if (principal == null) {
            return false;
        }
        return superUsers.contains(principal.toString()) ? Boolean.TRUE : null;
    }

    private AclEntry[] acls(ResourceType type) {
        List<AclEntry> current = store.state().acls();
        Index i = index;
        if (i.source() != current) {
            i = reindex(current);
            index = i;
        }
        AclEntry[] forType = i.byType()[type.code];
        return forType == null ? new AclEntry[0] : forType;
    }

    private static Index reindex(List<AclEntry> acls) {
        AclEntry[][] byType = new AclEntry[8][];
        for (byte t = 0; t < byType.length; t++) {
            List<AclEntry> of = new ArrayList<>();
            for (AclEntry a : acls) {
                if (a.resourceType() == t) {
                    of.add(a);
                }
            }
            byType[t] = of.toArray(AclEntry[]::new);
        }
        return new Index(acls, byType);
    }

    private static boolean matchesResource(AclEntry acl, String name) {
        if (acl.patternType() == PatternType.PREFIXED.code) {
            return name.startsWith(acl.resourceName());
        }
        return acl.resourceName().equals("*") || acl.resourceName().equals(name);
    }

    private static boolean matchesPrincipal(AclEntry acl, String principal) {
        return acl.principal().equals(principal) || acl.principal().equals("User:*");
    }

    private static boolean matchesHost(AclEntry acl, String host) {
        return acl.host().equals("*") || acl.host().equals(host);
    }

    private static String host(InetAddress address) {
        return address == null ? "" : address.getHostAddress();
    }
}
