# shellcheck shell=bash
# Sourced by shim.sh before its main `case` (issue 15: certs check/renew, backup create/restore).
# Emulates kubeadm's certificate commands, crictl's view of the control-plane static pods, and
# etcdctl/etcdutl snapshots. State lives where the real tools keep it, inside the node's overlays:
#   - certificates: real X.509 (made with the real openssl) in /etc/kubernetes/pki and as
#     client-certificate-data in /etc/kubernetes/{admin,super-admin,controller-manager,scheduler}.conf;
#     `kubeadm init phase certs|kubeconfig all` issue them with the dates in state/cert-start and
#     state/cert-end (YYYYMMDDHHMMSSZ; default: yesterday and in 365 days), `kubeadm certs renew all`
#     reissues every non-CA certificate for 365 days from now with the same CA and subject, as kubeadm does;
#   - static pods: a manifest in /etc/kubernetes/manifests means the kubelet runs its container; the
#     container id changes whenever the manifest file is moved back (its ctime), as a restart would;
#   - the kube-apiserver container serves: while it runs, a real `openssl s_server` (started by lc_kubelet,
#     which every call on the node runs first, as the kubelet syncs its pods) serves the
#     /etc/kubernetes/pki/apiserver.crt it read when it started (a running API server keeps its
#     certificate in memory) on the node's own address, port state/apiserver-port (default 6443); a new
#     container id restarts it, a manifest moved out stops it. state/apiserver-no-restart: the process
#     survives its container's restarts and goes on serving the old certificate (a restart that did not
#     take). Its process group is in state/apiserver.pid (sshd.ts kills it when the node stops); it also
#     ends itself once the test process in state/owner-pid is gone;
#   - etcd data: /var/lib/etcd/member/snap/db; `etcdctl snapshot save` copies it (etcd must run),
#     `etcdutl snapshot restore` writes a new data dir (refusing an existing one, as etcdutl does).
# Handled commands exit here; anything else falls through to shim.sh's main case.

# what shim.sh has set when it sources this file: the node's state folder, its address, the command called
: "${st:?}" "${ip:?}" "${cmd:?}"

lc_pki=/etc/kubernetes/pki
lc_when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
lc_start() { cat "$st/cert-start" 2>/dev/null || lc_when '-1 day'; }
lc_end() { cat "$st/cert-end" 2>/dev/null || lc_when '+365 days'; }

# lc_sign OUT_BASE CN START END [CA_BASE [EXT]]: key OUT_BASE.key and certificate OUT_BASE.crt, signed by
# CA_BASE (self-signed without one) with exactly these dates (openssl ca, since `req -x509` only takes -days)
# and the extensions of section EXT (default v3_leaf; v3_apiserver: kubeadm's serving certificate, its SANs).
# Two openssl runs per certificate (the key made by `req -newkey` with its CSR): a certs test makes ~180 of them, and
# each process is most of its cost (start-up and dynamic linking), not the P-256 arithmetic
lc_sign() {
  local out=$1 cn=$2 start=$3 end=$4 ca=${5:-} ext=${6:-v3_leaf} d
  d=$(mktemp -d)
  : >"$d/index.txt"
  # a random serial, as kubeadm's (every reissue is told apart by it): 60 random bits, positive
  printf '%04x%04x%04x%04x\n' "$RANDOM" "$RANDOM" "$RANDOM" "$RANDOM" >"$d/serial"
  printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\nserial=%s/serial\nnew_certs_dir=%s\ndefault_md=sha256\npolicy=p\nunique_subject=no\nemail_in_dn=no\n[p]\ncommonName=supplied\n[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment\n[v3_leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$d" "$d" "$d" >"$d/ca.cnf"
  # kubeadm's apiserver.crt: serverAuth, and SANs kubernetes, kubernetes.default(.svc(.cluster.local)), the node
  # name, the first service IP and the advertise address (cmd/kubeadm/app/util/pkiutil GetAPIServerAltNames)
  printf '[v3_apiserver]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:%s,IP:10.96.0.1,IP:%s\n' "$(cat "$st/hostname")" "$ip" >>"$d/ca.cnf"
  mkdir -p "${out%/*}"
  if [ -s "$out.key" ]; then
    openssl req -new -key "$out.key" -subj "/CN=$cn" -config "$d/ca.cnf" -out "$d/r.csr" 2>/dev/null
  else
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$out.key" -subj "/CN=$cn" -config "$d/ca.cnf" -out "$d/r.csr" 2>/dev/null
  fi
  if [ -n "$ca" ]; then
    openssl ca -batch -config "$d/ca.cnf" -cert "$ca.crt" -keyfile "$ca.key" -in "$d/r.csr" -startdate "$start" -enddate "$end" -extensions "$ext" -out "$out.crt" -notext 2>/dev/null
  else
    openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$out.key" -in "$d/r.csr" -startdate "$start" -enddate "$end" -extensions v3_ca -out "$out.crt" -notext 2>/dev/null
  fi
  local rc=$?
  chmod 600 "$out.key"
  rm -rf "$d"
  return $rc
}

# leaf certificates as kubeadm names them: file base (under pki), CN, CA base[, extensions]
lc_leaves() {
  printf '%s\n' \
    "apiserver kube-apiserver ca v3_apiserver" \
    "apiserver-kubelet-client kube-apiserver-kubelet-client ca" \
    "front-proxy-client front-proxy-client front-proxy-ca" \
    "apiserver-etcd-client kube-apiserver-etcd-client etcd/ca" \
    "etcd/server $(cat "$st/hostname") etcd/ca" \
    "etcd/peer $(cat "$st/hostname") etcd/ca" \
    "etcd/healthcheck-client kube-etcd-healthcheck-client etcd/ca"
}
# kubeconfig files: name, client CN
lc_confs() {
  printf '%s\n' "admin kubernetes-admin" "super-admin kubernetes-super-admin" "controller-manager system:kube-controller-manager" "scheduler system:kube-scheduler"
}

# lc_conf NAME CN START END: /etc/kubernetes/NAME.conf with a client certificate from the cluster CA
lc_conf() {
  local name=$1 cn=$2 tmp
  tmp=$(mktemp -d)
  lc_sign "$tmp/client" "$cn" "$3" "$4" "$lc_pki/ca" || return 1
  local user=$cn
  [ "$name" = admin ] && user=kubernetes-admin
  {
    echo 'apiVersion: v1'
    echo 'clusters:'
    echo '- cluster:'
    echo "    certificate-authority-data: $(base64 -w0 "$lc_pki/ca.crt")"
    echo "    server: https://$ip:6443"
    echo '  name: kubernetes'
    echo 'contexts:'
    echo '- context:'
    echo '    cluster: kubernetes'
    echo "    user: $user"
    echo "  name: $user@kubernetes"
    echo "current-context: $user@kubernetes"
    echo 'kind: Config'
    echo 'users:'
    echo "- name: $user"
    echo '  user:'
    echo "    client-certificate-data: $(base64 -w0 "$tmp/client.crt")"
    echo "    client-key-data: $(base64 -w0 "$tmp/client.key")"
  } >"/etc/kubernetes/$name.conf"
  chmod 600 "/etc/kubernetes/$name.conf"
  rm -rf "$tmp"
}

# a container id for a static pod, or nothing when its manifest is not in place (the kubelet stopped it)
lc_container() {
  local m=/etc/kubernetes/manifests/$1.yaml
  [ -f "$m" ] || return 0
  printf '%s %s' "$1" "$(stat -c %z "$m")" | sha256sum | cut -c1-13
}

lc_arg() { # the value of --NAME=V or --NAME V among the remaining args
  local name=$1
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      "--$name="*) echo "${1#*=}"; return ;;
      "--$name") echo "${2:-}"; return ;;
    esac
    shift
  done
}

# ---- the kube-apiserver static pod's server (see the header) ---------------------------------------------
lc_api_pid() { cat "$st/apiserver.pid" 2>/dev/null; }
# PID runs: not `kill -0`, which also succeeds on a zombie (an exited process whose sockets are closed, waiting
# for its reaper: here the machine's init, whose reaping took ~1.7 s — every kube-apiserver restart waited it out)
lc_running() { local s; read -r s <"/proc/$1/stat" 2>/dev/null || return 1; s=${s##*) }; [ "${s%% *}" != Z ]; }
# a process of session $1 runs (zombies left out), read from /proc: CI installs no procps, so no ps
lc_session_runs() {
  local f s
  for f in /proc/[0-9]*/stat; do
    read -r s <"$f" 2>/dev/null || continue
    s=${s##*) }
    # shellcheck disable=SC2086 # split on purpose: the fields after the name (state ppid pgrp session …)
    set -- "$1" $s
    [ "$2" != Z ] && [ "$5" = "$1" ] && return 0
  done
  return 1
}
lc_api_alive() { local p; p=$(lc_api_pid) && [ -n "$p" ] && lc_running "$p"; }
lc_api_stop() { # the whole process group (the watchdog and s_server), waiting until none of it runs and the port is free
  local p i=0
  p=$(lc_api_pid)
  if [ -n "$p" ]; then
    kill -- "-$p" 2>/dev/null
    # its session (setsid: the watchdog, s_server, a sleep), zombies left out
    while lc_session_runs "$p" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  fi
  rm -f "$st/apiserver.pid" "$st/apiserver.container"
}
lc_kubelet() {
  [ -f /etc/kubernetes/manifests/kube-apiserver.yaml ] || [ -s "$st/apiserver.pid" ] || return 0
  (
    flock 9
    id=$(lc_container kube-apiserver)
    # a restart that did not take: the running process stays, whatever its container does
    if [ -e "$st/apiserver-no-restart" ] && lc_api_alive; then exit 0; fi
    if [ -z "$id" ]; then lc_api_stop; exit 0; fi
    if [ "$(cat "$st/apiserver.container" 2>/dev/null)" = "$id" ] && lc_api_alive; then exit 0; fi
    lc_api_stop
    [ -s "$lc_pki/apiserver.crt" ] && [ -s "$lc_pki/apiserver.key" ] || exit 0
    port=$(cat "$st/apiserver-port" 2>/dev/null || echo 6443)
    owner=$(cat "$st/owner-pid" 2>/dev/null || echo 1)
    # its own session (the SSH session ends without it); the watchdog ends it with the test process
    # shellcheck disable=SC2016
    setsid bash -c 'openssl s_server -accept "$1" -cert "$2" -key "$3" -www -quiet & s=$!
      while kill -0 "$4" 2>/dev/null && kill -0 "$s" 2>/dev/null; do sleep 1; done
      kill "$s" 2>/dev/null' kube-apiserver "$ip:$port" "$lc_pki/apiserver.crt" "$lc_pki/apiserver.key" "$owner" \
      </dev/null >>"$st/apiserver.log" 2>&1 9>&- &
    echo $! >"$st/apiserver.pid"
    echo "$id" >"$st/apiserver.container"
    # a real API server has read its certificate once it listens: the call goes on only then, so a renew
    # in the same call cannot change what it serves
    i=0
    until (exec 3<>"/dev/tcp/$ip/$port") 2>/dev/null; do
      if [ $i -ge 200 ] || ! lc_api_alive; then
        echo "sandbox: the kube-apiserver emulation did not listen on $ip:$port (state/apiserver.log)" >&2
        break
      fi
      sleep 0.05
      i=$((i + 1))
    done
  ) 9>"$st/kubelet.lock"
}
lc_kubelet

case "$cmd ${1:-} ${2:-}" in
  "kubeadm init phase")
    case "${3:-} ${4:-}" in
      "certs all")
        s=$(lc_start) e=$(lc_end) ca_end=$(lc_when '+3650 days')
        mkdir -p "$lc_pki/etcd"
        for ca in ca:kubernetes front-proxy-ca:front-proxy-ca etcd/ca:etcd-ca; do
          [ -s "$lc_pki/${ca%%:*}.crt" ] || lc_sign "$lc_pki/${ca%%:*}" "${ca#*:}" "$s" "$ca_end" || exit 1
        done
        while read -r base cn ca ext; do lc_sign "$lc_pki/$base" "$cn" "$s" "$e" "$lc_pki/$ca" "$ext" || exit 1; done < <(lc_leaves)
        echo "[certs] Using certificateDir folder \"$lc_pki\""
        exit 0
        ;;
      "kubeconfig all")
        s=$(lc_start) e=$(lc_end)
        while read -r name cn; do lc_conf "$name" "$cn" "$s" "$e" || exit 1; done < <(lc_confs)
        echo '[kubeconfig] Using kubeconfig folder "/etc/kubernetes"'
        exit 0
        ;;
    esac
    ;;
  "kubeadm certs renew")
    [ "${3:-}" = all ] || { echo "sandbox: only 'kubeadm certs renew all' is emulated" >&2; exit 1; }
    [ -s "$lc_pki/ca.key" ] || { echo 'error: failure loading ca certificate authority: open /etc/kubernetes/pki/ca.crt: no such file or directory' >&2; exit 1; }
    s=$(lc_when now) e=$(lc_when '+365 days')
    while read -r base cn ca ext; do
      [ -f "$lc_pki/$base.crt" ] || continue
      lc_sign "$lc_pki/$base" "$cn" "$s" "$e" "$lc_pki/$ca" "$ext" || exit 1
      echo "certificate ${base//\//-} renewed"
    done < <(lc_leaves)
    while read -r name cn; do
      [ -f "/etc/kubernetes/$name.conf" ] || continue
      lc_conf "$name" "$cn" "$s" "$e" || exit 1
      echo "certificate embedded in the kubeconfig file for the $name renewed"
    done < <(lc_confs)
    echo
    echo 'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.'
    exit 0
    ;;
  "crictl ps "*)
    name=$(lc_arg name "$@")
    name=${name#^}
    name=${name%\$}
    for p in kube-apiserver kube-controller-manager kube-scheduler etcd; do
      [ -z "$name" ] || [ "$name" = "$p" ] || continue
      id=$(lc_container "$p")
      [ -n "$id" ] && echo "$id"
    done
    exit 0
    ;;
  etcdctl*)
    # etcd answers only while its static pod runs
    if [ ! -f /etc/kubernetes/manifests/etcd.yaml ]; then
      echo "{\"level\":\"warn\",\"msg\":\"retrying of unary invoker failed\",\"error\":\"rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: desc = \\\"transport: Error while dialing: dial tcp 127.0.0.1:2379: connect: connection refused\\\"\"}" >&2
      exit 1
    fi
    for want in cacert cert key; do
      f=$(lc_arg "$want" "$@")
      if [ -z "$f" ] || [ ! -r "$f" ]; then
        echo "Error: open ${f:-(no --$want)}: no such file or directory" >&2
        exit 1
      fi
    done
    args=" $* "
    case $args in
      *" snapshot save "*)
        out=${*: -1}
        db=/var/lib/etcd/member/snap/db
        [ -f "$db" ] || { echo "Error: etcd has no data" >&2; exit 1; }
        cp "$db" "$out.part" && mv "$out.part" "$out"
        echo "Snapshot saved at $out"
        ;;
      *" endpoint health "*)
        echo "https://127.0.0.1:2379 is healthy: successfully committed proposal: took = 2.1ms"
        ;;
      *) ;;
    esac
    exit 0
    ;;
  "etcdutl snapshot status")
    f=$3
    [ -f "$f" ] || { echo "Error: stat $f: no such file or directory" >&2; exit 1; }
    size=$(stat -c %s "$f")
    hash=$(cksum <"$f" | cut -d' ' -f1)
    keys=$(grep -c '' "$f" || true)
    printf '{"hash":%s,"revision":%s,"totalKey":%s,"totalSize":%s,"version":"3.6.0"}\n' "$hash" "$keys" "$keys" "$size"
    exit 0
    ;;
  "etcdutl snapshot restore")
    f=$3
    shift 3
    dir=$(lc_arg data-dir "$@")
    [ -f "$f" ] || { echo "Error: stat $f: no such file or directory" >&2; exit 1; }
    [ -n "$dir" ] || { echo 'Error: --data-dir is required' >&2; exit 1; }
    [ -e "$dir" ] && { echo "Error: data-dir \"$dir\" not empty or could not be read" >&2; exit 1; }
    for want in name initial-cluster initial-advertise-peer-urls; do
      [ -n "$(lc_arg "$want" "$@")" ] || { echo "sandbox: --$want expected" >&2; exit 1; }
    done
    mkdir -p "$dir/member/snap" "$dir/member/wal"
    cp "$f" "$dir/member/snap/db"
    printf '%s\n' "$(lc_arg name "$@") $(lc_arg initial-cluster "$@")" >"$dir/member/restored-as"
    echo "restored snapshot to $dir"
    exit 0
    ;;
esac
