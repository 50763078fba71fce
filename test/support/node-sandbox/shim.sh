#!/bin/bash
# Recording shim for the node sandbox (see ../README-nodes.md). Every system command the install
# script runs (apt-get, dnf, systemctl, kubeadm, kubectl, modprobe, sysctl, swapoff, curl, …) is a
# wrapper `exec shim.sh NODE_DIR NODE_IP CLUSTERS_DIR CMD ARGS…` on the node's PATH. The shim appends
# one tab-separated line per call to NODE_DIR/state/calls.log and emulates just enough state (packages,
# services, modules, sysctls, kubeadm init/join, a cluster's node registry) for the real script to run
# end to end and for a rerun to see "already installed". It never touches the real system: the sshd of
# the node runs in a mount namespace whose /etc, /var/lib, /opt and /usr/local are overlays on the
# node's own directory.
set -u
node=$1 ip=$2 clusters=$3 cmd=$4
shift 4
st=$node/state
# (no mkdir or dirname process when there is nothing to do: the shim runs for every system command of every node)
[ -d "$st" ] || mkdir -p "$st"

line=$cmd
for a in "$@"; do line+=$'\t'"$a"; done
printf '%s\n' "$line" >>"$st/calls.log"

# failure injection: state/fail holds a command prefix (e.g. "kubeadm init")
if [ -s "$st/fail" ]; then
  want=$(cat "$st/fail")
  case "$cmd $*" in "$want"*) echo "sandbox: injected failure of: $want" >&2; exit 1 ;; esac
fi

# a call that waits (tests of a kill in the middle of a step): state/block-on holds a command prefix; a
# matching call writes its line to state/blocked and waits until state/unblock exists (a test polls for
# state/blocked, never sleeps), then goes on — or fails, when state/unblock says `fail` (the call ended
# with the session of a killed run). state/blocked is removed when the call goes on, fails or is killed.
if [ -s "$st/block-on" ] && [ ! -e "$st/unblock" ]; then
  want=$(cat "$st/block-on")
  case "$cmd $*" in
    "$want"*)
      trap 'rm -f "$st/blocked"' EXIT
      printf '%s\n' "$cmd $*" >"$st/blocked"
      while [ ! -e "$st/unblock" ]; do sleep 0.05; done
      if [ "$(cat "$st/unblock")" = fail ]; then echo "sandbox: $cmd ended with its session" >&2; exit 1; fi
      rm -f "$st/blocked"
      trap - EXIT
      ;;
  esac
fi

# simulated duration of the slow steps (package installs, kubeadm, Cilium): real nodes spend most of an
# install waiting on the network and disks of their own machine, not on this machine's CPU
if [ -s "$st/slow-seconds" ]; then
  case "$cmd ${1:-}" in
    "apt-get install" | "dnf install" | "kubeadm init" | "kubeadm join" | "cilium install") sleep "$(cat "$st/slow-seconds")" ;;
  esac
fi

k8s_version() { cat "$st/k8s-version" 2>/dev/null || echo 1.34.1; }
registry_of() { echo "$clusters/$1"; }

provide() { # create an installed command (a wrapper back to this shim) in the node's pkgbin
  mkdir -p "$node/pkgbin"
  printf '#!/bin/bash\nexec /bin/bash %q %q %q %q %q "$@"\n' "$0" "$node" "$ip" "$clusters" "$1" >"$node/pkgbin/$1"
  chmod 755 "$node/pkgbin/$1"
}

install_pkgs() {
  local skip=0
  for p in "$@"; do
    if [ $skip = 1 ]; then skip=0; continue; fi
    case $p in -o) skip=1; continue ;; -*) continue ;; esac
    name=${p%%=*}
    name=${name%%-[0-9]*}
    grep -qx "$name" "$st/pkgs" 2>/dev/null || echo "$name" >>"$st/pkgs"
    case $name in
      kubeadm | kubelet | kubectl | containerd) provide "$name" ;;
      containerd.io) provide containerd ;;
    esac
  done
}

# certificates, static pods and etcd snapshots (certs/backup tests): a separate file, exits when it handles the call
# shellcheck source-path=SCRIPTDIR source=shim-certs-etcd.sh
. "${0%/*}/shim-certs-etcd.sh"
# ---- upgrades and node lifecycle (obsctl upgrade kubernetes, node add|remove) --------------------------
# Kept apart from the rest so other emulations can grow beside it. State it keeps:
#   state/pkgver/<pkg>        the installed version of kubeadm, kubelet, kubectl (from `apt-get install pkg=VER`)
#   state/held                packages on hold (`apt-mark hold|unhold`): apt refuses to change them without
#                             --allow-change-held-packages, as the real apt does
#   state/kubelet-running     the kubelet version running: the installed package at the last start/restart
#   state/unreachable-minors  minors whose pkgs.k8s.io repository fails (`apt-get update`, curl of it)
# On a RHEL-family node (sshd.ts packageManager 'dnf') the repository is /etc/yum.repos.d/kubernetes.repo's
# baseurl; `dnf list --showduplicates` lists the minor's rpm releases, `dnf install NAME-VER*` sets pkgver
# (refused while the repo's exclude= line names the package and --disableexcludes=kubernetes is missing).
#   <clusters>/<cp ip>/version  the control-plane version (`kubeadm upgrade apply` sets it)
# The repository a node uses is the minor in /etc/apt/sources.list.d/kubernetes.list (what install-k8s.sh
# writes); its `apt-cache madison` lists <minor>.2, .1, .0 for a minor other than the node's first one.
# A test's kubelet player turns kubelet-running and the cluster version into the Node objects and the
# API server version of its Kubernetes API test server.
up_minor() { echo "$1" | cut -d. -f1,2; }
up_repo_minor() { # the minor of the node's repository: apt's list, or (RHEL family) the yum repo's baseurl
  { sed -n 's|.*/core:/stable:/v\([0-9]*\.[0-9]*\)/deb.*|\1|p' /etc/apt/sources.list.d/kubernetes.list
    sed -n 's|^baseurl=.*/core:/stable:/v\([0-9]*\.[0-9]*\)/rpm.*|\1|p' /etc/yum.repos.d/kubernetes.repo; } 2>/dev/null | head -1
}
up_pkgver() { cat "$st/pkgver/$1" 2>/dev/null || k8s_version; }
up_cluster_dir() {
  local name d
  name=$(cat "$st/hostname")
  for d in "$clusters"/*/; do [ -e "$d$name" ] && { echo "${d%/}"; return 0; }; done
  return 1
}
up_cluster_version() { # the cluster's control-plane version, else the node's own
  local d
  if d=$(up_cluster_dir) && [ -r "$d/version" ]; then cat "$d/version"; else k8s_version; fi
}
up_older() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ] && [ "$1" != "$2" ]; } # $1 < $2
up_unreachable() { [ -n "$1" ] && grep -qx "$1" "$st/unreachable-minors" 2>/dev/null; }
upgrade_shim() { # 0: handled (exit code in up_rc); 1: fall through to the emulation below
  up_rc=0
  case "$cmd ${1:-}" in
    "apt-get update")
      local m; m=$(up_repo_minor)
      if up_unreachable "$m"; then echo "E: Failed to fetch https://pkgs.k8s.io/core:/stable:/v$m/deb/InRelease  403  Forbidden" >&2; up_rc=100; return 0; fi
      return 1 ;;
    "apt-get install")
      local a name ver change=0
      for a in "$@"; do [ "$a" = --allow-change-held-packages ] && change=1; done
      for a in "$@"; do
        case $a in kubeadm=* | kubelet=* | kubectl=*) ;; *) continue ;; esac
        name=${a%%=*} ver=${a#*=}
        ver=${ver%%-*}
        if [ -n "$(up_repo_minor)" ] && [ "$(up_minor "$ver")" != "$(up_repo_minor)" ]; then echo "E: Version '${a#*=}' for '$name' was not found" >&2; up_rc=100; return 0; fi
        if grep -qx "$name" "$st/held" 2>/dev/null && [ $change = 0 ] && [ "$(up_pkgver "$name")" != "$ver" ]; then
          echo "E: Held packages were changed and -y was used without --allow-change-held-packages." >&2; up_rc=100; return 0
        fi
      done
      for a in "$@"; do
        case $a in kubeadm=* | kubelet=* | kubectl=*) mkdir -p "$st/pkgver"; ver=${a#*=}; echo "${ver%%-*}" >"$st/pkgver/${a%%=*}" ;; esac
      done
      return 1 ;;
    "dnf list") # dnf list --showduplicates [-q] [--disableexcludes=kubernetes] PKG: pkgs.k8s.io's rpm releases
      local m v a p=kubeadm; m=$(up_repo_minor); v=$(k8s_version)
      for a in "$@"; do case $a in kubeadm | kubelet | kubectl) p=$a ;; esac; done
      echo 'Available Packages'
      if [ -n "$m" ] && [ "$m" != "$(up_minor "$v")" ]; then
        for x in 0 1 2; do printf '%s.x86_64   %s.%s-150500.1.1   kubernetes\n' "$p" "$m" "$x"; done
      else
        printf '%s.x86_64   %s-150500.1.1   kubernetes\n' "$p" "$v"
      fi
      return 0 ;;
    "dnf install") # NAME-VERSION* of the repository's minor; the repo's exclude= hides them without --disableexcludes
      local a name ver dis=0
      for a in "$@"; do [ "$a" = --disableexcludes=kubernetes ] && dis=1; done
      for a in "$@"; do
        case $a in kubeadm-[0-9]* | kubelet-[0-9]* | kubectl-[0-9]*) ;; *) continue ;; esac
        name=${a%%-[0-9]*} ver=${a#"$name"-}
        ver=${ver%\*}
        ver=${ver%%-*}
        if [ $dis = 0 ] && grep -q "^exclude=.*\b$name\b" /etc/yum.repos.d/kubernetes.repo 2>/dev/null; then echo "Error: Unable to find a match: $a" >&2; up_rc=1; return 0; fi
        if [ -n "$(up_repo_minor)" ] && [ "$(up_minor "$ver")" != "$(up_repo_minor)" ]; then echo "Error: Unable to find a match: $a" >&2; up_rc=1; return 0; fi
      done
      for a in "$@"; do
        case $a in kubeadm-[0-9]* | kubelet-[0-9]* | kubectl-[0-9]*) ;; *) continue ;; esac
        name=${a%%-[0-9]*} ver=${a#"$name"-}
        ver=${ver%\*}
        ver=${ver%%-*}
        # NAME-MINOR* (install-k8s.sh): the newest patch of the minor, as dnf list shows it
        case $ver in *.*.*) ;; *) if [ "$ver" = "$(up_minor "$(k8s_version)")" ]; then ver=$(k8s_version); else ver=$ver.2; fi ;; esac
        mkdir -p "$st/pkgver"
        echo "$ver" >"$st/pkgver/$name"
      done
      return 1 ;;
    "apt-mark hold") shift; for a in "$@"; do grep -qx "$a" "$st/held" 2>/dev/null || echo "$a" >>"$st/held"; done; return 0 ;;
    "apt-mark unhold") shift; for a in "$@"; do [ -f "$st/held" ] && sed -i "/^$a\$/d" "$st/held"; done; return 0 ;;
    "apt-cache madison")
      local m v p=${2:-kubeadm}; m=$(up_repo_minor); v=$(k8s_version)
      [ -n "$m" ] && [ "$m" != "$(up_minor "$v")" ] || return 1
      for x in 2 1 0; do printf '   %s | %s.%s-1.1 | https://pkgs.k8s.io/core:/stable:/v%s/deb  Packages\n' "$p" "$m" "$x" "$m"; done
      return 0 ;;
    "curl "*)
      local a; for a in "$@"; do case $a in *pkgs.k8s.io/core:/stable:/v*)
        local m; m=$(echo "$a" | sed -n 's|.*/core:/stable:/v\([0-9]*\.[0-9]*\)/.*|\1|p')
        if up_unreachable "$m"; then echo "curl: (22) The requested URL returned error: 403" >&2; up_rc=22; return 0; fi ;;
      esac; done
      return 1 ;;
    "systemctl enable" | "systemctl start" | "systemctl restart")
      local a; for a in "$@"; do [ "$a" = kubelet ] || [ "$a" = kubelet.service ] || continue
        [ "$1" != enable ] || case " $* " in *" --now "*) ;; *) continue ;; esac
        cp "$st/pkgver/kubelet" "$st/kubelet-running" 2>/dev/null || k8s_version >"$st/kubelet-running"
      done
      return 1 ;;
    "kubeadm init" | "kubeadm join") # kubeadm starts the kubelet it configured
      cp "$st/pkgver/kubelet" "$st/kubelet-running" 2>/dev/null || k8s_version >"$st/kubelet-running"
      return 1 ;;
    "kubelet --version") echo "Kubernetes v$(up_pkgver kubelet)"; return 0 ;;
    "kubeadm version") echo "v$(up_pkgver kubeadm)"; return 0 ;;
    "kubeadm upgrade") ;;
    "kubeadm reset")
      local d; d=$(up_cluster_dir) && rm -f "$d/$(cat "$st/hostname")" "$d/$(cat "$st/hostname").untainted"
      rm -rf /etc/kubernetes/kubelet.conf /etc/kubernetes/admin.conf /etc/kubernetes/manifests "$st/kubelet-running"
      echo "[reset] Deleted contents of the etc directories: [/etc/kubernetes/manifests /var/lib/kubelet]"
      return 0 ;;
    *) return 1 ;;
  esac
  # kubeadm upgrade plan|apply|node
  local kv cv d target
  kv=$(up_pkgver kubeadm) cv=$(up_cluster_version)
  case ${2:-} in
    plan | apply)
      if [ ! -s /etc/kubernetes/admin.conf ]; then echo "couldn't create a Kubernetes client from file \"/etc/kubernetes/admin.conf\": no such file" >&2; up_rc=1; return 0; fi
      if [ "$2" = plan ]; then
        echo "[upgrade/versions] Cluster version: v$cv"
        echo "[upgrade/versions] kubeadm version: v$kv"
        if up_older "$cv" "$kv"; then printf 'You can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply v%s\n' "$kv"; fi
        return 0
      fi
      target=${3#v}
      if up_older "$kv" "$target"; then echo "[upgrade/version] FATAL: the --version argument is invalid due to these errors: Specified version to upgrade to \"v$target\" is higher than the kubeadm version \"v$kv\". Upgrade kubeadm first using the tool you used to install kubeadm" >&2; up_rc=1; return 0; fi
      if [ $(( $(echo "$target" | cut -d. -f2) - $(echo "$cv" | cut -d. -f2) )) -gt 1 ]; then echo "[upgrade/version] FATAL: Specified version to upgrade to \"v$target\" is too high; kubeadm can upgrade only 1 minor version at a time" >&2; up_rc=1; return 0; fi
      case " $* " in *" --yes "* | *" -y "*) ;; *) echo "[upgrade] Are you sure you want to proceed? [y/N]: aborted (no --yes)" >&2; up_rc=1; return 0 ;; esac
      d=$(up_cluster_dir) || { echo "sandbox: this node is in no cluster" >&2; up_rc=1; return 0; }
      echo "$target" >"$d/version"
      echo "$target" >"$st/control-plane-version"
      echo "[upgrade] SUCCESS! A control plane node of your cluster was upgraded to \"v$target\"."
      ;;
    node)
      if [ ! -s /etc/kubernetes/kubelet.conf ]; then echo "couldn't read /etc/kubernetes/kubelet.conf: this node has not joined a cluster" >&2; up_rc=1; return 0; fi
      if [ "$kv" != "$cv" ]; then echo "[upgrade] FATAL: kubeadm v$kv cannot upgrade this node to the cluster's v$cv; install kubeadm $cv first" >&2; up_rc=1; return 0; fi
      echo "$cv" >"$st/node-config-version"
      [ -s /etc/kubernetes/admin.conf ] && echo "$cv" >"$st/control-plane-version"
      echo "[upgrade] The configuration for this node was successfully updated!"
      ;;
    *) echo "sandbox: kubeadm upgrade ${2:-}: not emulated" >&2; up_rc=1 ;;
  esac
  return 0
}
# another apt holding its locks (unattended-upgrades at a first boot), as apt 2.6 answers:
#   state/apt-lists-locked  N: the next N `apt-get update` fail at once on the lists lock (no option waits for it)
#   state/dpkg-locked       present: `apt-get install` fails at once, unless given -o DPkg::Lock::Timeout=N, with
#                           which it waits; here the holder then finishes at once (the file is removed)
if [ "$cmd ${1:-}" = "apt-get update" ] && [ "$(cat "$st/apt-lists-locked" 2>/dev/null || echo 0)" -gt 0 ]; then
  echo $(($(cat "$st/apt-lists-locked") - 1)) >"$st/apt-lists-locked"
  echo 'E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)' >&2
  echo 'E: Unable to lock directory /var/lib/apt/lists/' >&2
  exit 100
fi
if [ "$cmd ${1:-}" = "apt-get install" ] && [ -e "$st/dpkg-locked" ]; then
  case " $* " in
    *" -o DPkg::Lock::Timeout="*) rm -f "$st/dpkg-locked" ;;
    *)
      echo 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4243 (unattended-upgr)' >&2
      echo 'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?' >&2
      exit 100
      ;;
  esac
fi
if upgrade_shim "$@"; then exit "$up_rc"; fi
# ---- end of upgrades and node lifecycle ---------------------------------------------------------------

case $cmd in
  sudo)
    mode=nopasswd
    while [ $# -gt 0 ]; do
      case $1 in
        -n) mode=nopasswd; shift ;;
        -S) mode=stdin; shift ;;
        -k) shift ;;
        -p) shift 2 ;;
        --) shift; break ;;
        *) break ;;
      esac
    done
    if [ -s "$st/sudo-password.sha256" ]; then
      if [ "$mode" != stdin ]; then echo "sudo: a password is required" >&2; exit 1; fi
      IFS= read -r pw || pw=
      if [ "$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)" != "$(cat "$st/sudo-password.sha256")" ]; then
        echo "sudo: 1 incorrect password attempt" >&2
        exit 1
      fi
      echo ok >>"$st/sudo-accepted"
    fi
    exec "$@"
    ;;
  apt-get)
    case ${1:-} in install) shift; install_pkgs "$@" ;; esac
    ;;
  dnf | yum)
    case ${1:-} in install) shift; install_pkgs "$@" ;; esac
    ;;
  apt-mark) ;;
  apt-cache)
    v=$(k8s_version)
    [ "${1:-}" = madison ] && printf '   %s | %s-1.1 | https://pkgs.k8s.io/core:/stable:/v%s/deb  Packages\n' "${2:-kubeadm}" "$v" "${v%.*}"
    ;;
  dpkg-query)
    pkg=${*: -1}
    grep -qx "$pkg" "$st/pkgs" 2>/dev/null || exit 1
    printf 'install ok installed'
    ;;
  rpm)
    pkg=${*: -1}
    grep -qx "$pkg" "$st/pkgs" 2>/dev/null || exit 1
    ;;
  systemctl)
    mkdir -p "$st/services"
    verb=${1:-}
    shift || true
    units=()
    for a in "$@"; do case $a in -*) ;; *) units+=("$a") ;; esac; done
    case $verb in
      is-active) [ -e "$st/services/${units[0]}.active" ] || exit 3 ;;
      is-enabled) [ -e "$st/services/${units[0]}.enabled" ] || exit 1 ;;
      enable)
        for u in "${units[@]}"; do
          touch "$st/services/$u.enabled"
          case " $* " in *" --now "*) touch "$st/services/$u.active" ;; esac
        done
        ;;
      start | restart) for u in "${units[@]}"; do touch "$st/services/$u.active"; done ;;
      *) ;;
    esac
    ;;
  lsmod)
    echo "Module                  Size  Used by"
    [ -f "$st/modules" ] && sed 's/$/ 16384 0/' "$st/modules"
    ;;
  modprobe)
    for m in "$@"; do case $m in -*) ;; *) echo "$m" >>"$st/modules" ;; esac; done
    ;;
  sysctl)
    mkdir -p "$st/sysctl"
    case ${1:-} in
      -n) cat "$st/sysctl/$2" 2>/dev/null || echo 0 ;;
      *)
        for a in "$@"; do
          case $a in *=*) echo "${a#*=}" >"$st/sysctl/${a%%=*}" ;; esac
        done
        ;;
    esac
    ;;
  swapon) cat "$st/swap" 2>/dev/null ;;
  swapoff) rm -f "$st/swap" ;;
  nproc) cat "$st/nproc" 2>/dev/null || /usr/bin/nproc ;;
  hostname) cat "$st/hostname" ;;
  ss) cat "$st/listen" 2>/dev/null || true ;; # like ss: nothing listening is no output, exit 0
  containerd)
    if [ "${1:-} ${2:-}" = "config default" ]; then
      printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n'
    fi
    ;;
  gpg)
    out=
    while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift 2 ;; *) shift ;; esac; done
    if [ -n "$out" ]; then cat >"$out"; else cat; fi
    ;;
  curl)
    out='' url=''
    while [ $# -gt 0 ]; do
      case $1 in
        -o) out=$2; shift 2 ;;
        -*) shift ;;
        *) url=$1; shift ;;
      esac
    done
    case $url in
      *.tar.gz)
        tmp=$(mktemp -d)
        printf '#!/bin/bash\nexec /bin/bash %q %q %q %q cilium "$@"\n' "$0" "$node" "$ip" "$clusters" >"$tmp/cilium"
        chmod 755 "$tmp/cilium"
        tar -czf "$out" -C "$tmp" cilium
        rm -rf "$tmp"
        ;;
      *.sha256sum)
        tgz=${out%.sha256sum}
        (cd "$(dirname "$tgz")" && sha256sum "$(basename "$tgz")") >"$out"
        ;;
      *)
        if [ -n "$out" ]; then echo "sandbox download of $url" >"$out"; else echo "-----BEGIN PGP PUBLIC KEY BLOCK----- (sandbox)"; fi
        ;;
    esac
    ;;
  kubeadm)
    case "${1:-} ${2:-}" in
      "version "*) echo "v$(k8s_version)" ;;
      "init --config")
        cfg=$3
        name=$(awk '/^  name:/{print $2; exit}' "$cfg")
        mkdir -p /etc/kubernetes/manifests
        # a test may have put a real admin.conf (pointing at a Kubernetes API test server) in place first
        if [ ! -s /etc/kubernetes/admin.conf ]; then
          printf 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://%s:6443\n  name: kubernetes\n# sandbox admin.conf of %s\n' "$ip" "$name" >/etc/kubernetes/admin.conf
        fi
        cp /etc/kubernetes/admin.conf /etc/kubernetes/kubelet.conf
        chmod 600 /etc/kubernetes/admin.conf /etc/kubernetes/kubelet.conf
        mkdir -p "$(registry_of "$ip")"
        echo control-plane >"$(registry_of "$ip")/$name"
        touch "$st/services/kubelet.active" 2>/dev/null || true
        # the end of kubeadm init's output as kubeadm prints it (cmd/kubeadm/app/cmd/phases/init/showjoincommand.go
        # initDoneTempl; the join commands from cmd/kubeadm/app/cmd/util/join.go joinCommandTemplate, token and
        # certificate key "<value withheld>" under --skip-token-print / --skip-certificate-key-print); the
        # InitConfiguration has a controlPlaneEndpoint, so the control-plane join command is printed too
        tok=s4ndbx.sandboxinittoken key='' skip_tok='' skip_key=''
        for a in "$@"; do
          case $a in
            --skip-token-print) skip_tok=1 ;;
            --skip-certificate-key-print) skip_key=1 ;;
            --upload-certs) key=$(printf '%064d' 0 | tr 0 e) ;;
          esac
        done
        [ -z "$skip_tok" ] || tok='<value withheld>'
        [ -z "$key" ] || [ -z "$skip_key" ] || key='<value withheld>'
        hash=sha256:$(printf '%064d' 0 | tr 0 c)
        # shellcheck disable=SC2016 # kubeadm prints $HOME and $(id -u) unexpanded, for the user to run
        printf '%s\n' 'Your Kubernetes control-plane has initialized successfully!' '' \
          'To start using your cluster, you need to run the following as a regular user:' '' \
          '  mkdir -p $HOME/.kube' '  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config' '  sudo chown $(id -u):$(id -g) $HOME/.kube/config' '' \
          'Alternatively, if you are the root user, you can run:' '' '  export KUBECONFIG=/etc/kubernetes/admin.conf' '' \
          'You should now deploy a pod network to the cluster.' 'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:' \
          '  https://kubernetes.io/docs/concepts/cluster-administration/addons/' ''
        if [ -n "$key" ]; then
          printf 'You can now join any number of the control-plane node running the following command on each as root:\n\n'
          printf '  kubeadm join %s:6443 --token %s \\\n    --discovery-token-ca-cert-hash %s \\\n    --control-plane --certificate-key %s\n\n' "$ip" "$tok" "$hash" "$key"
          printf 'Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n'
          printf 'As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n'
          printf '"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.\n\n'
        else
          printf 'You can now join any number of control-plane nodes by copying certificate authorities\n'
          printf 'and service account keys on each node and then running the following as root:\n\n'
          printf '  kubeadm join %s:6443 --token %s \\\n    --discovery-token-ca-cert-hash %s \\\n    --control-plane \n\n' "$ip" "$tok" "$hash"
        fi
        printf 'Then you can join any number of worker nodes by running the following on each as root:\n\n'
        printf 'kubeadm join %s:6443 --token %s \\\n    --discovery-token-ca-cert-hash %s \n' "$ip" "$tok" "$hash"
        ;;
      "join --config")
        cfg=$3
        name=$(awk '/^  name:/{print $2; exit}' "$cfg")
        ep=$(awk '/apiServerEndpoint:/{print $2; exit}' "$cfg")
        cp_ip=${ep%:*}
        [ -d "$(registry_of "$cp_ip")" ] || { echo "error: cannot reach $ep" >&2; exit 1; }
        mkdir -p /etc/kubernetes
        echo "# sandbox kubelet.conf of $name" >/etc/kubernetes/kubelet.conf
        role=worker
        # a control-plane join (JoinConfiguration.controlPlane): the certificate key's sha256 is kept (the
        # key itself never), so a test can check the key of `kubeadm init phase upload-certs` arrived
        key=$(awk '/certificateKey:/{print $2; exit}' "$cfg" | tr -d '"')
        if [ -n "$key" ]; then
          role=control-plane
          printf '%s' "$key" | sha256sum | cut -d' ' -f1 >"$st/join-certificate-key.sha256"
          cp /etc/kubernetes/kubelet.conf /etc/kubernetes/admin.conf
        fi
        echo $role >"$(registry_of "$cp_ip")/$name"
        echo "This node has joined the cluster"
        ;;
      "token create") echo "kubeadm join $ip:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:$(printf '%064d' 0 | tr 0 a)" ;;
      "init phase") printf '[upload-certs] Using certificate key:\n%s\n' "$(printf '%064d' 0 | tr 0 b)" ;;
      *) ;;
    esac
    ;;
  kubectl)
    reg=$(registry_of "$ip")
    args=" $* "
    case $args in
      *" get node "*"Ready"*)
        name=$(printf '%s\n' "$@" | awk 'prev=="node"{print; exit} {prev=$0}')
        [ -e "$reg/$name" ] || { echo "Error from server (NotFound): nodes \"$name\" not found" >&2; exit 1; }
        printf True
        ;;
      *" get node "*"taints"*)
        name=$(printf '%s\n' "$@" | awk 'prev=="node"{print; exit} {prev=$0}')
        [ -e "$reg/$name.untainted" ] || printf 'node-role.kubernetes.io/control-plane'
        ;;
      *" taint nodes "*)
        name=$(printf '%s\n' "$@" | awk 'prev=="nodes"{print; exit} {prev=$0}')
        touch "$reg/$name.untainted"
        ;;
      *" get daemonset cilium "*) [ -e "$reg/.cilium" ] || exit 1 ;;
      *" get ciliumloadbalancerippool "*) [ -e "$reg/.lbpool" ] || exit 1 ;;
      *" apply "*) cat >"$reg/.lbpool" ;;
      *) ;;
    esac
    ;;
  cilium)
    case ${1:-} in install) touch "$(registry_of "$ip")/.cilium" ;; esac
    ;;
  *) ;;
esac
exit 0
