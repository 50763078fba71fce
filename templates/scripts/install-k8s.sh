#!/usr/bin/env bash
# install-k8s.sh: Kubernetes on one node, rendered by obsctl (`obsctl node install`) for
# {{NODE_LABEL}}. Do not edit the copy on the node: obsctl renders and uploads it on every run.
#
# Every step checks before it acts, so running it again changes nothing. A node that already
# belongs to a cluster (/etc/kubernetes/kubelet.conf exists) is left as is and reported
# "already installed". The last line is `OBSCTL_RESULT=installed|already-installed changes=N`.
set -euo pipefail
umask 022
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

# ---- rendered from the inventory -------------------------------------------------------------
NODE_NAME={{NODE_NAME}}
# init: first control plane (kubeadm init + Cilium); join: worker; join-control-plane: extra control plane
MODE={{MODE}}
K8S_MINOR={{K8S_MINOR}}
# the inventory's versions.kubernetes: a minor (1.34) or a pinned patch (1.34.1)
K8S_VERSION={{K8S_VERSION}}
# the Kubernetes package repository for this minor (pkgs.k8s.io or the inventory's ssh.aptMirror)
PKG_BASE={{PKG_BASE}}
CILIUM_VERSION={{CILIUM_VERSION}}
CILIUM_CLI_VERSION={{CILIUM_CLI_VERSION}}
# 1: remove the control-plane taint (single-node cluster, or a control plane that is also a worker)
UNTAINT={{UNTAINT}}
PROXY_HTTP={{PROXY_HTTP}}
PROXY_HTTPS={{PROXY_HTTPS}}
PROXY_NO={{PROXY_NO}}
# kubeadm join configuration uploaded by obsctl (mode 0600; holds the bootstrap token), join modes only
JOIN_CONFIG={{JOIN_CONFIG}}
# ------------------------------------------------------------------------------------------------

STATE_DIR=/var/lib/obsctl
CHANGES=0

# The join configuration holds a join token (and a control plane's certificate key): gone when the script ends,
# however it ends — a failed step, or a signal (obsctl's Ctrl-C, a session that went away), obsctl's own removal
# being best effort when the connection is gone.
if [ -n "$JOIN_CONFIG" ]; then
  trap 'rm -f "$JOIN_CONFIG"' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

log() { printf 'obsctl: %s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
changed() { CHANGES=$((CHANGES + 1)); printf 'obsctl: changed: %s\n' "$*"; }
die() { printf 'obsctl: error: %s\n' "$*" >&2; exit 1; }

# ensure_file PATH MODE: content from stdin; writes (atomically) only when it differs.
# Returns 0 when the file changed, 1 when it was already right.
ensure_file() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$path")"
  install -m "$mode" "$tmp" "$path"
  rm -f "$tmp"
  changed "wrote $path"
  return 0
}

pkg_installed() {
  case $PKG in
    apt) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' ;;
    dnf) rpm -q "$1" >/dev/null 2>&1 ;;
  esac
}

# apt_install and apt_update: wait for another apt (unattended-upgrades at a first boot) to release its locks
{{APT_FUNCTIONS}}

pkg_install() {
  case $PKG in
    apt) apt_install "$@" ;;
    dnf) dnf install -y -q "$@" ;;
  esac
}

service_up() {
  local unit=$1
  if ! systemctl is-enabled --quiet "$unit" 2>/dev/null || ! systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl enable --now "$unit"
    changed "enabled and started $unit"
  fi
}

[ "$(id -u)" -eq 0 ] || die "must run as root (obsctl runs it through sudo)"

if [ -n "$PROXY_HTTP" ]; then export http_proxy=$PROXY_HTTP HTTP_PROXY=$PROXY_HTTP; fi
if [ -n "$PROXY_HTTPS" ]; then export https_proxy=$PROXY_HTTPS HTTPS_PROXY=$PROXY_HTTPS; fi
if [ -n "$PROXY_NO" ]; then export no_proxy=$PROXY_NO NO_PROXY=$PROXY_NO; fi

# ---- 1. operating system and architecture ------------------------------------------------------
step "check operating system"
[ -r /etc/os-release ] || die "/etc/os-release missing: unsupported operating system"
# shellcheck disable=SC1091
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" ubuntu "* | *" debian "*) PKG=apt ;;
  *" rhel "* | *" centos "* | *" fedora "* | *" rocky "* | *" almalinux "*) PKG=dnf ;;
  *) die "unsupported operating system ${PRETTY_NAME:-${ID:-unknown}} (Ubuntu, Debian or the RHEL family)" ;;
esac
case $(uname -m) in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) die "unsupported architecture $(uname -m) (x86_64 or arm64)" ;;
esac
log "${PRETTY_NAME:-$ID} on $ARCH, packages via $PKG"

# $STATE_DIR is made here, for every step below. One install at a time on this node: sshd does not end a session's
# commands when its client goes away, so the script of a killed run may still be working here when the rerun
# starts; the rerun waits for it (then finds its work done) instead of racing it through the same steps (two
# `kubeadm init`). The lock is held until the script ends; upgrade and certificate steps take the same one.
install -d -m 0700 "$STATE_DIR"
{{NODE_LOCK_FUNCTIONS}}
node_lock install-k8s.sh install-k8s.sh

# A join configuration left beside this script by a run killed beyond its EXIT trap (SIGKILL, a reboot) holds a
# bootstrap token (and a control plane's certificate key): with the lock held no other install script reads one,
# so every one but this run's own goes (obsctl names each run's file kubeadm-join-<random>.yaml).
for f in "$(dirname "$0")"/kubeadm-join-*.yaml; do
  if [ -e "$f" ] && [ "$f" != "$JOIN_CONFIG" ]; then
    rm -f "$f"
    log "removed $f, a join configuration a killed run left"
  fi
done

ALREADY=0
if [ -f /etc/kubernetes/kubelet.conf ]; then
  ALREADY=1
  log "already installed: /etc/kubernetes/kubelet.conf exists; the node is left as is"
fi

if [ "$ALREADY" -eq 0 ]; then
  # ---- 2. swap off, and kept off ---------------------------------------------------------------
  step "swap"
  if [ -n "$(swapon --show --noheadings 2>/dev/null || true)" ]; then
    swapoff -a
    changed "swap turned off"
  fi
  if grep -Eq '^[^#][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab 2>/dev/null; then
    sed -ri.obsctl.bak 's|^([^#][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$|# disabled by obsctl: \1|' /etc/fstab
    changed "swap entries commented out in /etc/fstab (backup /etc/fstab.obsctl.bak)"
  fi

  # ---- 3. kernel modules and sysctls -------------------------------------------------------------
  step "kernel modules and sysctls"
  printf 'overlay\nbr_netfilter\n' | ensure_file /etc/modules-load.d/k8s.conf 0644 || true
  for m in overlay br_netfilter; do
    if ! lsmod | grep -q "^$m "; then
      modprobe "$m"
      changed "loaded kernel module $m"
    fi
  done
  printf 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n' |
    ensure_file /etc/sysctl.d/99-kubernetes.conf 0644 || true
  for k in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward; do
    if [ "$(sysctl -n "$k" 2>/dev/null || echo 0)" != 1 ]; then
      sysctl -q -w "$k=1"
      changed "sysctl $k=1"
    fi
  done

  # ---- 4. base packages: containerd, Longhorn prerequisites (open-iscsi, NFS client) --------------
  step "base packages"
  if [ "$PKG" = apt ]; then
    BASE_PKGS="ca-certificates curl gpg containerd open-iscsi nfs-common"
  else
    ensure_file /etc/yum.repos.d/docker-ce.repo 0644 <<'EOF' || true
[docker-ce-stable]
name=Docker CE Stable (containerd.io)
baseurl=https://download.docker.com/linux/rhel/$releasever/$basearch/stable
enabled=1
gpgcheck=1
gpgkey=https://download.docker.com/linux/rhel/gpg
EOF
    BASE_PKGS="ca-certificates curl containerd.io iscsi-initiator-utils nfs-utils"
  fi
  MISSING=""
  for p in $BASE_PKGS; do pkg_installed "$p" || MISSING="$MISSING $p"; done
  if [ -n "$MISSING" ]; then
    if [ "$PKG" = apt ]; then apt_update; fi
    # shellcheck disable=SC2086
    pkg_install $MISSING
    changed "installed$MISSING"
  fi
  service_up iscsid

  # ---- 5. containerd with the systemd cgroup driver --------------------------------------------
  step "containerd"
  CONTAINERD_RESTART=0
  if ! grep -q 'SystemdCgroup = true' /etc/containerd/config.toml 2>/dev/null; then
    mkdir -p /etc/containerd
    containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' >/etc/containerd/config.toml.obsctl
    grep -q 'SystemdCgroup = true' /etc/containerd/config.toml.obsctl ||
      die "containerd's default config has no SystemdCgroup option to turn on; check the containerd version"
    mv /etc/containerd/config.toml.obsctl /etc/containerd/config.toml
    changed "containerd configured with SystemdCgroup = true"
    CONTAINERD_RESTART=1
  fi
  if [ -n "$PROXY_HTTP$PROXY_HTTPS" ]; then
    if printf '[Service]\nEnvironment="HTTP_PROXY=%s" "HTTPS_PROXY=%s" "NO_PROXY=%s"\n' "$PROXY_HTTP" "$PROXY_HTTPS" "$PROXY_NO" |
      ensure_file /etc/systemd/system/containerd.service.d/http-proxy.conf 0644; then
      systemctl daemon-reload
      CONTAINERD_RESTART=1
    fi
  fi
  if [ "$CONTAINERD_RESTART" -eq 1 ] && systemctl is-active --quiet containerd; then
    systemctl restart containerd
  fi
  service_up containerd

  # ---- 6. kubeadm, kubelet, kubectl from the Kubernetes package repository ------------------------
  step "Kubernetes $K8S_VERSION packages"
  if [ "$PKG" = apt ]; then
    if [ ! -s /etc/apt/keyrings/kubernetes-apt-keyring.gpg ]; then
      install -d -m 0755 /etc/apt/keyrings
      curl -fsSL "$PKG_BASE/deb/Release.key" | gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
      changed "Kubernetes repository key saved"
    fi
    if printf 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] %s/deb/ /\n' "$PKG_BASE" |
      ensure_file /etc/apt/sources.list.d/kubernetes.list 0644; then
      apt_update
    fi
  else
    ensure_file /etc/yum.repos.d/kubernetes.repo 0644 <<EOF || true
[kubernetes]
name=Kubernetes $K8S_MINOR
baseurl=$PKG_BASE/rpm/
enabled=1
gpgcheck=1
gpgkey=$PKG_BASE/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
EOF
  fi
  HAVE=""
  if command -v kubeadm >/dev/null 2>&1; then HAVE=$(kubeadm version -o short 2>/dev/null || true); fi
  case "$HAVE." in
    "v$K8S_VERSION".*) log "kubeadm $HAVE already installed" ;;
    *)
      if [ "$PKG" = apt ]; then
        PIN=$(apt-cache madison kubeadm | awk -v v="$K8S_VERSION" '{ if (index($3, v) == 1) { print $3; exit } }')
        [ -n "$PIN" ] || die "no kubeadm $K8S_VERSION in $PKG_BASE (apt-cache madison kubeadm)"
        apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
        apt_install --allow-change-held-packages "kubelet=$PIN" "kubeadm=$PIN" "kubectl=$PIN"
        apt-mark hold kubelet kubeadm kubectl
      else
        dnf install -y -q --disableexcludes=kubernetes "kubelet-$K8S_VERSION*" "kubeadm-$K8S_VERSION*" "kubectl-$K8S_VERSION*"
      fi
      changed "installed kubelet, kubeadm, kubectl $K8S_VERSION"
      ;;
  esac
  if ! systemctl is-enabled --quiet kubelet 2>/dev/null; then
    systemctl enable kubelet
    changed "kubelet enabled (kubeadm starts it)"
  fi

  # ---- 7. kubeadm init / join ------------------------------------------------------------------
  KUBE_VERSION=$(kubeadm version -o short)
  if [ "$MODE" = init ]; then
    step "kubeadm init ($KUBE_VERSION)"
    sed "s/@KUBERNETES_VERSION@/$KUBE_VERSION/" >"$STATE_DIR/kubeadm-init.yaml" <<'EOF'
{{KUBEADM_CONFIG}}
EOF
    chmod 0600 "$STATE_DIR/kubeadm-init.yaml"
    # kubeadm prints the join command with its bootstrap token (and a certificate key with --upload-certs) unless told
    # not to: this output goes to obsctl's task log; joins get a fresh token of their own (kubeadm token create)
    kubeadm init --config "$STATE_DIR/kubeadm-init.yaml" --skip-token-print --skip-certificate-key-print
    changed "kubeadm init"
  else
    step "kubeadm join ($MODE)"
    [ -s "$JOIN_CONFIG" ] || die "join configuration $JOIN_CONFIG missing (obsctl uploads it)"
    kubeadm join --config "$JOIN_CONFIG"
    rm -f "$JOIN_CONFIG"
    changed "kubeadm join"
  fi
fi

# ---- 8. control plane: Cilium (CNI, kube-proxy replacement, L2 announcements), taint --------------
if [ "$MODE" != join ] && [ -f /etc/kubernetes/admin.conf ]; then
  export KUBECONFIG=/etc/kubernetes/admin.conf
  if [ "$MODE" = init ]; then
    step "Cilium $CILIUM_VERSION"
    if ! kubectl -n kube-system get daemonset cilium >/dev/null 2>&1; then
      if ! command -v cilium >/dev/null 2>&1; then
        tmpd=$(mktemp -d)
        url="https://github.com/cilium/cilium-cli/releases/download/$CILIUM_CLI_VERSION/cilium-linux-$ARCH.tar.gz"
        curl -fsSL -o "$tmpd/cilium-linux-$ARCH.tar.gz" "$url"
        curl -fsSL -o "$tmpd/cilium-linux-$ARCH.tar.gz.sha256sum" "$url.sha256sum"
        (cd "$tmpd" && sha256sum --check --quiet "cilium-linux-$ARCH.tar.gz.sha256sum") || die "cilium CLI checksum mismatch"
        tar -xzf "$tmpd/cilium-linux-$ARCH.tar.gz" -C /usr/local/bin cilium
        rm -rf "$tmpd"
        changed "installed cilium CLI $CILIUM_CLI_VERSION"
      fi
      # the same Helm values as the GitOps repository's cilium Application (src/lib/config/cilium.ts),
      # so Argo CD adopts this release without changing it
      cat >"$STATE_DIR/cilium-values.yaml" <<'EOF'
{{CILIUM_VALUES}}
EOF
      cilium install --version "$CILIUM_VERSION" --values "$STATE_DIR/cilium-values.yaml"
      changed "Cilium $CILIUM_VERSION installed"
    fi
    # The LoadBalancer IP pool and the L2 announcement policy belong to the GitOps repository
    # (deploy/overlays/<cluster>-<role>/cilium): nothing in the bootstrap needs a LoadBalancer IP before
    # Argo CD syncs that Application, and a second owner here would add an overlapping pool.
  fi
  if [ "$UNTAINT" = 1 ] && kubectl get node "$NODE_NAME" -o jsonpath='{.spec.taints[*].key}' 2>/dev/null | grep -q 'node-role.kubernetes.io/control-plane'; then
    kubectl taint nodes "$NODE_NAME" node-role.kubernetes.io/control-plane:NoSchedule-
    changed "control-plane taint removed (workloads may run on $NODE_NAME)"
  fi
fi

if [ "$ALREADY" -eq 1 ]; then
  echo "OBSCTL_RESULT=already-installed changes=$CHANGES"
else
  echo "OBSCTL_RESULT=installed changes=$CHANGES"
fi
