package kiri.router.broker;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.AlterUserScramCredentialsRequest;
import kiri.protocol.message.AlterUserScramCredentialsResponse;
import kiri.protocol.message.DescribeUserScramCredentialsRequest;
import kiri.protocol.message.DescribeUserScramCredentialsResponse;
import kiri.router.Handler;
import kiri.router.security.ScramMechanism;
import kiri.router.security.SecurityStore;
import kiri.storage.api.ScramCredential;

/**
 * DescribeUserScramCredentials and AlterUserScramCredentials over the {@link SecurityStore}, with Kafka's
 * per-user errors: what {@code kafka-configs --entity-type users --alter --add-config 'SCRAM-SHA-512=[...]'}
 * and {@code Admin.alterUserScramCredentials} use. The client sends the salted password, never the password.
 */
final class ScramCredentialHandlers {
    private ScramCredentialHandlers() {
    }

    static Handler describe(BrokerState broker) {
        return (context, message) -> {
            DescribeUserScramCredentialsRequest request = (DescribeUserScramCredentialsRequest) message;
            DescribeUserScramCredentialsResponse response = new DescribeUserScramCredentialsResponse();
            if (!broker.allowedCluster(context, kiri.router.security.AclOperation.DESCRIBE)) {
                return CompletableFuture.completedFuture(response.setErrorCode(ErrorCode.CLUSTER_AUTHORIZATION_FAILED.code())
                        .setErrorMessage(ErrorCode.CLUSTER_AUTHORIZATION_FAILED.message()));
            }
            Map<String, List<ScramCredential>> byUser = new TreeMap<>();
            for (ScramCredential c : broker.security().state().scram()) {
                byUser.computeIfAbsent(c.user(), u -> new ArrayList<>()).add(c);
            }
            List<String> users;
            if (request.users() == null || request.users().isEmpty()) {
                users = new ArrayList<>(byUser.keySet());
            } else {
                users = new ArrayList<>();
                for (var u : request.users()) {
                    users.add(u.name());
                }
            }
            Map<String, Integer> seen = new HashMap<>();
            users.forEach(u -> seen.merge(u, 1, Integer::sum));
            Set<String> answered = new HashSet<>();
            for (String user : users) {
                if (!answered.add(user)) {
                    continue;
                }
                var result = new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult().setUser(user);
                List<ScramCredential> credentials = byUser.get(user);
                if (seen.get(user) > 1) {
                    result.setErrorCode(ErrorCode.DUPLICATE_RESOURCE.code())
                            .setErrorMessage("Cannot describe SCRAM credentials for the same user twice in a single request: " + user);
                } else if (credentials == null) {
                    result.setErrorCode(ErrorCode.RESOURCE_NOT_FOUND.code())
                            .setErrorMessage("Attempt to describe nonexistent user: " + user);
                } else {
                    for (ScramCredential c : credentials) {
                        result.credentialInfos().add(new DescribeUserScramCredentialsResponse.CredentialInfo()
                                .setMechanism(ScramMechanism.forName(c.mechanism()).type).setIterations(c.iterations()));
                    }
                }
                response.results().add(result);
            }
            return CompletableFuture.completedFuture(response);
        };
    }

    /** One requested change: an upsertion (credential set) or a deletion (credential null). */
    private record Alteration(String user, ScramMechanism mechanism, ScramCredential credential) {
    }

    static Handler alter(BrokerState broker) {
        return (context, message) -> {
            AlterUserScramCredentialsRequest request = (AlterUserScramCredentialsRequest) message;
            Map<String, String> errors = new LinkedHashMap<>(); // user -> "code:message" of its first failure
            Map<String, ErrorCode> codes = new HashMap<>();
            List<Alteration> alterations = new ArrayList<>();
            Set<String> keys = new HashSet<>();
            boolean authorized = broker.allowedCluster(context, kiri.router.security.AclOperation.ALTER);
            for (var d : request.deletions()) {
                errors.putIfAbsent(d.name(), null);
                alterations.add(new Alteration(d.name(), ScramMechanism.forType(d.mechanism()), null));
                check(d.name(), d.mechanism(), 0, false, keys, codes, errors);
            }
            for (var u : request.upsertions()) {
                errors.putIfAbsent(u.name(), null);
                ScramMechanism m = ScramMechanism.forType(u.mechanism());
                ScramCredential c = null;
                if (check(u.name(), u.mechanism(), u.iterations(), true, keys, codes, errors)) {
                    c = m.credential(u.name(), u.saltedPassword().toArray(ValueLayout.JAVA_BYTE),
                            u.salt().toArray(ValueLayout.JAVA_BYTE), u.iterations());
                }
                alterations.add(new Alteration(u.name(), m, c));
            }
            if (!authorized) {
                for (String user : errors.keySet()) {
                    codes.put(user, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
                    errors.put(user, ErrorCode.CLUSTER_AUTHORIZATION_FAILED.message());
                }
            }
            return broker.security().update(state -> {
                Set<String> present = new HashSet<>();
                for (ScramCredential c : state.scram()) {
                    present.add(c.user() + "\0" + c.mechanism());
                }
                for (Alteration a : alterations) {
                    if (a.credential() == null && !codes.containsKey(a.user())
                            && !present.contains(a.user() + "\0" + a.mechanism().mechanismName)) {
                        codes.put(a.user(), ErrorCode.RESOURCE_NOT_FOUND);
                        errors.put(a.user(), "Attempt to delete a user credential that does not exist");
                    }
                }
                List<ScramCredential> next = new ArrayList<>(state.scram());
                for (Alteration a : alterations) {
                    if (codes.containsKey(a.user())) {
                        continue; // a user with any bad alteration changes nothing
                    }
                    next.removeIf(c -> c.user().equals(a.user()) && c.mechanism().equals(a.mechanism().mechanismName));
                    if (a.credential() != null) {
                        next.add(a.credential());
                    }
                }
                AlterUserScramCredentialsResponse response = new AlterUserScramCredentialsResponse();
                for (var e : errors.entrySet()) {
                    ErrorCode code = codes.getOrDefault(e.getKey(), ErrorCode.NONE);
                    response.results().add(new AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult()
                            .setUser(e.getKey()).setErrorCode(code.code())
                            .setErrorMessage(code == ErrorCode.NONE ? null : e.getValue()));
                }
                boolean changed = alterations.stream().anyMatch(a -> !codes.containsKey(a.user()));
                return new SecurityStore.Change<>(changed ? state.withScram(next) : state, response);
            }).exceptionally(failure -> {
                AlterUserScramCredentialsResponse response = new AlterUserScramCredentialsResponse();
                for (String user : errors.keySet()) {
                    response.results().add(new AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult()
                            .setUser(user).setErrorCode(Futures.errorCode(failure)).setErrorMessage(failure.getMessage()));
                }
                return response;
            });
        };
    }

    /** Validates one alteration; false (and the user's error recorded) when it is refused. */
    private static boolean check(String user, byte mechanism, int iterations, boolean upsert, Set<String> keys,
            Map<String, ErrorCode> codes, Map<String, String> errors) {
        ErrorCode code = null;
        String why = null;
        if (user.isEmpty()) {
            code = ErrorCode.UNACCEPTABLE_CREDENTIAL;
            why = "Username must not be empty";
        } else if (ScramMechanism.forType(mechanism) == null) {
            code = ErrorCode.UNSUPPORTED_SASL_MECHANISM;
            why = "Unknown SCRAM mechanism";
        } else if (!keys.add(user + "\0" + mechanism)) {
            code = ErrorCode.DUPLICATE_RESOURCE;
            why = "A user credential cannot be altered twice in the same request";
        } else if (upsert && iterations < ScramMechanism.MIN_ITERATIONS) {
            code = ErrorCode.UNACCEPTABLE_CREDENTIAL;
            why = "Too few iterations";
        } else if (upsert && iterations > ScramMechanism.MAX_ITERATIONS) {
            code = ErrorCode.UNACCEPTABLE_CREDENTIAL;
            why = "Too many iterations";
        }
        if (code != null && !codes.containsKey(user)) {
            codes.put(user, code);
            errors.put(user, why);
        }
        return code == null;
    }
}
