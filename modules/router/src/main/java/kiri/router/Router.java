package kiri.router;

/** Placeholder. */
final class Router {
    private Router() {
    }
}
