#!/usr/bin/env bash
# A throwaway WordPress for the integration tests, from Debian's packages (wordpress,
# mariadb-server, php-cli, php-mysql), on loopback only.
#
#   tests/wordpress/site.sh start DIR   install a fresh site under DIR and serve it; prints
#                                       KEY=VALUE lines (also written to DIR/site.env)
#   tests/wordpress/site.sh stop DIR    stop its web server and database, then remove DIR
#
# Everything lives in DIR: a copy of /usr/share/wordpress (so wp-config.php is ours, not the
# Debian one that looks in /etc/wordpress), a private MariaDB on a unix socket with networking
# off, and PHP's built-in server on 127.0.0.1. WP_ENVIRONMENT_TYPE is "local": WordPress then
# allows application passwords over plain HTTP, which it refuses anywhere else.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {  # wait_for SECONDS COMMAND...: poll until the command succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

stop() {
    for name in php mariadb; do
        if [ -f "$dir/$name.pid" ]; then
            kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
        fi
    done
    if [ -f "$dir/mariadb.pid" ]; then
        wait_for 20 bash -c "! kill -0 $(cat "$dir/mariadb.pid") 2>/dev/null" || true
    fi
    case "$dir" in /|"") ;; *) rm -rf "$dir" ;; esac
}

start() {
    for need in /usr/share/wordpress/wp-load.php /usr/sbin/mariadbd /usr/bin/mariadb-install-db; do
        [ -e "$need" ] || { echo "missing $need: apt-get install wordpress mariadb-server php-cli php-mysql" >&2; exit 3; }
    done
    command -v php >/dev/null || { echo "missing php: apt-get install php-cli php-mysql" >&2; exit 3; }
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    local sock="$dir/mysql.sock" root="$dir/wordpress" port
    port="$(free_port)"

    # The database: private data directory, unix socket only, no TCP at all.
    mariadb-install-db --no-defaults --datadir="$dir/db" --user="$(id -un)" --auth-root-authentication-method=normal \
        --skip-test-db >"$dir/mariadb-install.log" 2>&1
    mariadbd --no-defaults --datadir="$dir/db" --socket="$sock" --skip-networking --user="$(id -un)" \
        --pid-file="$dir/mariadb.pid" --log-error="$dir/mariadb.log" --innodb-buffer-pool-size=16M \
        --skip-log-bin >/dev/null 2>&1 &
    wait_for 30 mariadb --no-defaults --socket="$sock" -uroot -e "SELECT 1" || {
        echo "MariaDB did not start; see $dir/mariadb.log" >&2; exit 1; }
    mariadb --no-defaults --socket="$sock" -uroot -e "CREATE DATABASE wordpress"

    # The site: our own copy (hard links when /tmp and /usr share a filesystem).
    cp -al /usr/share/wordpress "$root" 2>/dev/null || cp -r /usr/share/wordpress "$root"
    rm -f "$root/wp-config.php"
    mkdir -p "$dir/wp-content/mu-plugins" "$dir/wp-content/uploads"
    ln -s /usr/share/wordpress/wp-content/plugins "$dir/wp-content/plugins"
    ln -s /usr/share/wordpress/wp-content/themes "$dir/wp-content/themes"
    local url="http://127.0.0.1:$port"
    cat >"$root/wp-config.php" <<PHP
<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', 'localhost:$sock' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT',
    'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as \$k ) {
    define( \$k, '$(head -c 24 /dev/urandom | base64)' . \$k );
}
\$table_prefix = 'wp_';
define( 'WP_ENVIRONMENT_TYPE', 'local' );  // application passwords over http on loopback
define( 'WP_HOME', '$url' );
define( 'WP_SITEURL', '$url' );
define( 'WP_CONTENT_DIR', '$dir/wp-content' );
define( 'WP_CONTENT_URL', '$url/wp-content' );
define( 'WP_MAX_MEMORY_LIMIT', '256M' );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_DEBUG', false );
if ( ! defined( 'ABSPATH' ) ) {
    define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
PHP

    php "$here/setup-site.php" "$root" >"$dir/site.json"
    cp "$here/test-site.php" "$dir/wp-content/mu-plugins/"

    # PHP's built-in server on loopback; unknown paths (/wp-json/...) fall through to index.php.
    php -S "127.0.0.1:$port" -t "$root" >"$dir/php.log" 2>&1 &
    echo $! >"$dir/php.pid"
    wait_for 30 python3 -c "import urllib.request; urllib.request.urlopen('$url/wp-json/', timeout=2)" || {
        echo "PHP's server did not answer on $url; see $dir/php.log" >&2; exit 1; }

    python3 - "$dir" "$url" "$repo" <<'PY' | tee "$dir/site.env"
import json, sys
d, url, repo = sys.argv[1:]
site = json.load(open(f"{d}/site.json"))
print(f"WP_DIR={d}")
print(f"WP_URL={url}")
print(f"WP_MU_PLUGINS={d}/wp-content/mu-plugins")
for key, value in site.items():
    print(f"WP_{key.upper()}={value}")
PY
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
