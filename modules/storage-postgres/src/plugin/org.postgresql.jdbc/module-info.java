/** pgjdbc as a named module for Kiri's plugin layer (generated exports; see build-plugin.sh). */
module org.postgresql.jdbc {
    requires transitive java.sql;
    requires static java.naming;
    requires static java.security.jgss;
    requires static java.management;
    requires static java.desktop;
    requires static jdk.net;
@EXPORTS@
    provides java.sql.Driver with org.postgresql.Driver;
}
