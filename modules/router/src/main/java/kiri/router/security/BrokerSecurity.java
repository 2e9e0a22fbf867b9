package kiri.router.security;

import java.util.Objects;
import kiri.storage.api.Storage;

/**
 * The broker-wide security state the handlers share: the stored SCRAM credentials and ACLs, and the authorizer
 * over them ({@link Authorizer#allowAll} when {@code authorizer.class.name} is unset).
 */
public record BrokerSecurity(SecurityStore store, Authorizer authorizer) {
    public BrokerSecurity {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(authorizer, "authorizer");
    }

    /** Credentials from {@code storage}, no ACLs enforced. */
    public static BrokerSecurity open(Storage storage) {
        return new BrokerSecurity(SecurityStore.open(storage), Authorizer.allowAll());
    }
}
