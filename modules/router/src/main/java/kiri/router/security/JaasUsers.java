package kiri.router.security;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PLAIN users of a {@code sasl.jaas.config} value, as Kafka's PlainLoginModule lists them:
 * {@code org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="s"
 * user_admin="s" user_alice="a";}. Only the {@code user_NAME="password"} options matter to a broker.
 */
public final class JaasUsers {
    private static final Pattern OPTION = Pattern.compile("([A-Za-z0-9_.\\-]+)\\s*=\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[^\\s;\"]+)");

    private JaasUsers() {
    }

    /** @throws IllegalArgumentException when the value is not a login module line */
    public static Map<String, String> parse(String jaas) {
        String s = jaas.strip();
        if (!s.endsWith(";")) {
            throw new IllegalArgumentException("sasl.jaas.config must end with ';'");
        }
        String[] head = s.split("\\s+", 3);
        if (head.length < 2 || !(head[1].equals("required") || head[1].equals("requisite")
                || head[1].equals("sufficient") || head[1].equals("optional"))) {
            throw new IllegalArgumentException("sasl.jaas.config must look like 'LoginModule required option=\"value\" ...;'");
        }
        Map<String, String> users = new LinkedHashMap<>();
        Matcher m = OPTION.matcher(head.length > 2 ? head[2] : "");
        while (m.find()) {
            String key = m.group(1);
            String value = m.group(3) != null ? m.group(3).replaceAll("\\\\(.)", "$1") : m.group(2);
            if (key.startsWith("user_") && key.length() > 5) {
                users.put(key.substring(5), value);
            }
        }
        return users;
    }
}
