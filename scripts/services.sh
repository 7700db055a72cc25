#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, database "test") and Redis (127.0.0.1:6379) answer.
# On machines that already run them this does nothing; on a fresh machine it starts
# a throwaway PostgreSQL cluster (initdb + pg_ctl as the postgres user) and a redis-server.
set -euo pipefail
RUN_DIR="${FIRSTSEEN_SERVICES_DIR:-/tmp/firstseen-services}"
mkdir -p "$RUN_DIR"

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  DATA="$RUN_DIR/pgdata"
  chown postgres "$RUN_DIR" 2>/dev/null || true
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    runuser -u postgres -- "$PGBIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
  fi
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -l "$RUN_DIR/pg.log" \
    -o "-c listen_addresses=127.0.0.1 -p 5432 -k $RUN_DIR" -w start >/dev/null
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null

if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log"
  for _ in $(seq 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.5; done
fi
echo "services: postgresql and redis answer on 127.0.0.1"
