/**
 * The storage kit: the shared implementation storage engines build on (the SPI itself is
 * {@code kiri.storage.api}). {@link kiri.storage.kit.CatalogStorage} is a whole {@code Storage} except
 * the records; the tables (producer state, transactions, groups) and fetch wake-ups serve engines
 * that keep their own metadata.
 */
module kiri.storage.kit {
    requires transitive kiri.storage.api;
    exports kiri.storage.kit;
}
