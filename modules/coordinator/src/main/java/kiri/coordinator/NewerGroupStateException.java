package kiri.coordinator;

/** A group's stored state is a record version this Kiri does not read: written by a newer Kiri sharing the storage. */
final class NewerGroupStateException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    NewerGroupStateException(String groupId, String record, int version, int highest) {
        super("group " + groupId + ": its stored state is a " + record + " of version " + version
                + ", which this Kiri does not read (it reads versions 0 to " + highest + "; was it written by a newer Kiri?)");
    }
}
