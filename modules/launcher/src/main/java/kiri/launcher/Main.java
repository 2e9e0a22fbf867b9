package kiri.launcher;

/** The kiri command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("kiri: the broker is not built yet; it will listen on tcp://0.0.0.0:9092");
    }
}
