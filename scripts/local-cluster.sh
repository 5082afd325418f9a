#!/usr/bin/env bash
# A one-node SLURM cluster and a PostgreSQL server for studies, on this machine (root, Debian-like).
#
#   scripts/local-cluster.sh start   # install what is missing, start munge, slurmctld, slurmd, PostgreSQL
#   scripts/local-cluster.sh env     # print the settings the tests and users read (exit 1 if not running)
#   scripts/local-cluster.sh stop    # end exactly what `start` started (pid files in the state dir)
#
# State dir: $EXCOLOR_CLUSTER_DIR (default /tmp/excolor-cluster): slurm.conf, the daemons' logs and pid
# files, PostgreSQL's data dir, and `env`, the lines `env` prints (for `eval "$(scripts/local-cluster.sh env)"`):
#   export SLURM_CONF=…                   the cluster's config (clients read it; /etc/slurm/slurm.conf links
#                                         to it when that file did not exist)
#   export EXCOLOR_SLURM_PARTITION=debug  the one partition (the default one)
#   export PGPASSFILE=…/pgpass            the database password, for libpq (kept out of the URL)
#   export EXCOLOR_STUDY_STORAGE=postgresql+psycopg://excolor@127.0.0.1:<port>/excolor
# PostgreSQL listens on 127.0.0.1 only, on $EXCOLOR_PG_PORT (default 55432), with its own data dir; it
# runs as the `postgres` user (it refuses root). `start` is idempotent: what already runs is kept.
set -euo pipefail

STATE=${EXCOLOR_CLUSTER_DIR:-/tmp/excolor-cluster}
PG_PORT=${EXCOLOR_PG_PORT:-55432}
PARTITION=debug
HERE=$(cd "$(dirname "$0")/.." && pwd)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

say() { echo "local-cluster: $*"; }
die() { echo "local-cluster: $*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_missing() {
  local missing=()
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  command -v munged >/dev/null || missing+=(munge)
  [ -n "$PG_BIN" ] || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  # The Python driver for PostgreSQL, into the project's venv (the `cluster` extra).
  if [ -x "$HERE/.venv/bin/python" ] && ! "$HERE/.venv/bin/python" -c "import psycopg" 2>/dev/null; then
    say "installing the cluster extra (psycopg) into .venv"
    "$HERE/.venv/bin/python" -m pip install --quiet -e "$HERE[cluster]"
  fi
}

write_slurm_conf() {
  local host cpus mem
  host=$(hostname -s)
  # Slots beyond the cores (twice them, at least 8): sweeper jobs mostly wait, and sweeper jobs and their
  # trials must fit on one node side by side.
  cpus=$(( $(nproc) * 2 > 8 ? $(nproc) * 2 : 8 ))
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  mkdir -p "$STATE/slurmctld" "$STATE/slurmd"
  cat >"$STATE/slurm.conf.new" <<EOF
# Written by scripts/local-cluster.sh: one node, no accounting, processes tracked without cgroups,
# cores scheduled (memory requests checked against RealMemory, not reserved).
ClusterName=excolor
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
# A cancelled or timed-out job gets SIGTERM, then SIGKILL after KillWait seconds.
KillWait=5
OverTimeLimit=0
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if cmp -s "$STATE/slurm.conf.new" "$STATE/slurm.conf"; then
    rm "$STATE/slurm.conf.new"
  else  # a new config (first start, or this script changed): daemons still on the old one restart
    mv "$STATE/slurm.conf.new" "$STATE/slurm.conf"
    stop_pid slurmd "$STATE/slurmd.pid"
    stop_pid slurmctld "$STATE/slurmctld.pid"
  fi
}

start_munge() {
  if munge -n </dev/null >/dev/null 2>&1; then return; fi  # a munged already answers
  [ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null;
                                   chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- munged --pid-file="/run/munge/munged.pid"
  cp /run/munge/munged.pid "$STATE/munged.pid"
  say "munged started"
}

start_slurm() {
  export SLURM_CONF="$STATE/slurm.conf"
  if [ ! -e /etc/slurm/slurm.conf ]; then
    mkdir -p /etc/slurm && ln -s "$STATE/slurm.conf" /etc/slurm/slurm.conf && touch "$STATE/etc-link"
  fi
  alive "$STATE/slurmctld.pid" || { slurmctld -f "$SLURM_CONF" && say "slurmctld started"; }
  alive "$STATE/slurmd.pid" || { slurmd -f "$SLURM_CONF" && say "slurmd started"; }
  local node
  node=$(hostname -s)
  for _ in $(seq 50); do
    if sinfo -h -n "$node" -o %T 2>/dev/null | grep -qx idle; then return; fi
    if sinfo -h -n "$node" -o %T 2>/dev/null | grep -qE 'down|drain'; then
      scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
    fi
    sleep 0.2
  done
  die "the node did not come up idle (sinfo: $(sinfo -h -o '%T' 2>&1)); see $STATE/slurmctld.log, $STATE/slurmd.log"
}

start_postgres() {
  local data="$STATE/pg" password
  mkdir -p "$data" "$STATE/pg-socket"
  touch "$STATE/postgresql.log"
  chown postgres:postgres "$data" "$STATE/pg-socket" "$STATE/postgresql.log"
  chmod 700 "$data"
  chmod 755 "$STATE"
  if [ ! -f "$data/PG_VERSION" ]; then
    runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -A peer -U postgres --no-instructions >/dev/null
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$STATE/pg-password"
    chmod 600 "$STATE/pg-password"
    # Only the local socket may connect without a password (for this script's setup).
    printf 'local all postgres peer\nhost excolor excolor 127.0.0.1/32 scram-sha-256\n' >"$data/pg_hba.conf"
    chown postgres:postgres "$data/pg_hba.conf"
  fi
  if ! runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$STATE/postgresql.log" -w -s \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $STATE/pg-socket -c max_connections=200" start
    head -1 "$data/postmaster.pid" >"$STATE/postgres.pid"
    say "postgresql started on 127.0.0.1:$PG_PORT"
  fi
  password=$(cat "$STATE/pg-password")
  local psql=(runuser -u postgres -- psql -h "$STATE/pg-socket" -p "$PG_PORT" -U postgres -qtA -v ON_ERROR_STOP=1)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'excolor'")" ]; then
    "${psql[@]}" -c "CREATE ROLE excolor LOGIN PASSWORD '$password'" >/dev/null
  fi
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'excolor'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE excolor OWNER excolor" >/dev/null
  fi
  # The password stays out of the URL (and so out of command lines, logs and reports): libpq reads it
  # from the PGPASSFILE that `env` exports.
  (umask 077; echo "127.0.0.1:$PG_PORT:excolor:excolor:$password" >"$STATE/pgpass")
  {
    echo "export SLURM_CONF=$STATE/slurm.conf"
    echo "export EXCOLOR_SLURM_PARTITION=$PARTITION"
    echo "export PGPASSFILE=$STATE/pgpass"
    echo "export EXCOLOR_STUDY_STORAGE=postgresql+psycopg://excolor@127.0.0.1:$PG_PORT/excolor"
  } >"$STATE/env"
}

stop_pid() {  # name, pid file: end that process (TERM, then KILL after 10 s) and remove the pid file
  local pid
  alive "$2" || { rm -f "$2"; return; }
  pid=$(cat "$2")
  kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$2"
  say "$1 stopped"
}

case "${1:-}" in
  start)
    [ "$(id -u)" = 0 ] || die "start needs root (it installs packages and starts daemons)"
    mkdir -p "$STATE"
    install_missing
    write_slurm_conf
    start_munge
    start_slurm
    start_postgres
    say "ready: state in $STATE"
    cat "$STATE/env"
    ;;
  env)
    [ -f "$STATE/env" ] && alive "$STATE/slurmctld.pid" && alive "$STATE/postgres.pid" || die "not running (scripts/local-cluster.sh start)"
    cat "$STATE/env"
    ;;
  stop)
    [ -d "$STATE" ] || { say "nothing to stop ($STATE does not exist)"; exit 0; }
    if alive "$STATE/slurmctld.pid"; then
      SLURM_CONF="$STATE/slurm.conf" scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    fi
    stop_pid slurmd "$STATE/slurmd.pid"
    stop_pid slurmctld "$STATE/slurmctld.pid"
    if alive "$STATE/postgres.pid"; then
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/pg" -w -s -m fast stop && say "postgresql stopped"
      rm -f "$STATE/postgres.pid"
    fi
    stop_pid munged "$STATE/munged.pid"
    if [ -f "$STATE/etc-link" ]; then rm -f /etc/slurm/slurm.conf "$STATE/etc-link"; fi
    rm -f "$STATE/env"
    ;;
  *)
    echo "usage: scripts/local-cluster.sh start|env|stop" >&2
    exit 2
    ;;
esac
