#!/usr/bin/env bash
# Starts PostgreSQL, Mosquitto and NATS (JetStream) on 127.0.0.1 where they are installed
# but not running. The integration tests skip (or fail under CI=true) without them.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! up 1883 && command -v mosquitto >/dev/null 2>&1; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi
if ! up 4222 && [ -x /usr/sbin/nats-server ]; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
fi
for i in $(seq 1 20); do
  if up 5432 && up 1883; then exit 0; fi
  sleep 0.5
done
echo "warning: not every service is up (PostgreSQL 5432, Mosquitto 1883)"
exit 0
