#!/usr/bin/env bash
# with_slurm.sh COMMAND [ARGS...]: starts a one-node Slurm cluster on this machine (Debian's
# slurm-wlm and munge) in a temporary directory: munged on its own socket and key, slurmctld and
# slurmd on free ports, a slurm.conf describing this machine. Runs COMMAND with SLURM_CONF set
# (so sbatch, squeue, scancel and scontrol talk to it), then cancels every job and stops the
# daemons. Exits 77 (ctest's SKIP_RETURN_CODE), saying why, when the cluster cannot start here.
set -uo pipefail

skip() { echo "SKIPPED: cannot start Slurm: $*" >&2; exit 77; }
for b in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || skip "no $b (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd runs jobs as their users and needs root here"

dir=$(mktemp -d /tmp/flowlab-slurm.XXXXXX) && chmod 755 "$dir" || skip "mktemp failed"
host=$(hostname -s)
cleanup() {
  SLURM_CONF="$dir/slurm.conf" scancel --quiet --full --user=root >/dev/null 2>&1
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2>/dev/null
  done
  sleep 0.5
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] && kill -9 "$(cat "$dir/$p.pid")" 2>/dev/null
  done
  rm -rf "$dir"
}
trap cleanup EXIT

# A port nothing listens on (bash's /dev/tcp connects only where something listens).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
ctld_port=$(free_port); slurmd_port=$(free_port)
cpus=$(nproc); mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p "$dir/state" "$dir/spool"
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none && chmod 400 "$dir/munge.key"
munged --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
  --log-file="$dir/munged.log" --seed-file="$dir/munge.seed" || skip "munged did not start"

cat > "$dir/slurm.conf" <<CONF
ClusterName=flowlabtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
KillWait=10
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -i || { tail "$dir/slurmctld.log" >&2; skip "slurmctld did not start"; }
slurmd || { tail "$dir/slurmd.log" >&2; skip "slurmd did not start"; }
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -q idle || { tail "$dir/slurmd.log" >&2; skip "the node never became idle"; }
echo "Slurm $(slurmctld -V | awk '{print $2}'): one node ($host, $cpus CPUs), SLURM_CONF=$SLURM_CONF" >&2
"$@"
