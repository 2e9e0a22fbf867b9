#!/usr/bin/env bash
# Writes the plugin folder (run by `mvn package` in this module):
#   build-plugin.sh JAVA_HOME ENGINE_JAR PGJDBC_JAR PGJDBC_MODULE_INFO OUT
# Kiri's plugin loader takes modular jars only, and pgjdbc is an automatic module (org.postgresql.jdbc):
# the copy in OUT gets the hand-written module-info next to this script, whose optional JDK modules
# (JNDI, GSS, XML, JMX) are `requires static` so that an image with java.sql alone resolves it.
set -euo pipefail
java_home=$1 engine=$2 pgjdbc=$3 info=$4 out=$5
rm -rf "$out"
mkdir -p "$out"
cp "$engine" "$out/"
cp "$pgjdbc" "$out/"
jar="$out/$(basename "$pgjdbc")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# every package of the driver is exported: it loads its own classes by name (socket and SSL factories)
"$java_home/bin/jar" --list --file "$jar" | grep '\.class$' | grep -v '^META-INF/' | sed 's|/[^/]*$||' | sort -u \
  | sed 's|/|.|g; s|.*|    exports &;|' >"$work/exports"
mkdir -p "$work/src"
sed "/@EXPORTS@/{
r $work/exports
d
}" "$info" >"$work/src/module-info.java"
"$java_home/bin/javac" --release 25 --patch-module "org.postgresql.jdbc=$jar" -d "$work/classes" "$work/src/module-info.java" 2>"$work/javac.log" \
  || { cat "$work/javac.log" >&2; exit 1; }
"$java_home/bin/jar" --update --file "$jar" -C "$work/classes" module-info.class
echo "kiri storage-postgres: plugin folder $out ($(ls "$out" | tr '\n' ' '))"
