#!/usr/bin/env bash
# Make sure a MariaDB and a Redis server answer on 127.0.0.1, starting them if
# they do not, and that the test database account exists. Used by `make test`.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

if ! mariadb-admin ping >/dev/null 2>&1; then
  echo "Starting MariaDB"
  $SUDO mkdir -p /run/mysqld && $SUDO chown mysql:mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || $SUDO mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  $SUDO sh -c 'nohup /usr/sbin/mariadbd --user=mysql >/tmp/emotune-mariadbd.log 2>&1 &'
  for _ in $(seq 1 60); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi

$SUDO mariadb -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'emotune'@'localhost' IDENTIFIED BY 'emotune';
CREATE USER IF NOT EXISTS 'emotune'@'127.0.0.1' IDENTIFIED BY 'emotune';
GRANT ALL PRIVILEGES ON `emotune`.* TO 'emotune'@'localhost', 'emotune'@'127.0.0.1';
GRANT ALL PRIVILEGES ON `test\_emotune%`.* TO 'emotune'@'localhost', 'emotune'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS `emotune` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
echo "MariaDB and Redis are up"
