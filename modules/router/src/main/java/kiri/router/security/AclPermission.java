package kiri.router.security;

/** Kafka's ACL permission types, with their protocol codes. */
public enum AclPermission {
    UNKNOWN(0), ANY(1), DENY(2), ALLOW(3);

    public final byte code;

    AclPermission(int code) {
        this.code = (byte) code;
    }

    public static AclPermission forCode(byte code) {
        for (AclPermission p : values()) {
            if (p.code == code) {
                return p;
            }
        }
        return UNKNOWN;
    }
}
