# handmade.sh: a Kubernetes cluster put together by hand on a --real rig,
# without kubeup: certificates made with openssl, static pod manifests and
# kubelet files written here. tests/sim/kube.test uses it to prove that the
# rig runs the real components (and refuses what they refuse) before kubeup
# is tested against it. Sourced; needs SIM, RIG (a rig made with
# `sim up N --real`, its mirror and registry up), TMP and KB (the folder of
# the real binaries, `kube-build --print-dir`/v1.20.2).
#
# Everything here waits with deadlines (hm_wait), never with fixed sleeps.

HM_VERSION=1.20.2
HM_DOMAIN=cluster.local
HM_SERVICE_CIDR=10.96.0.0/12
HM_SERVICE_IP=10.96.0.1
HM_POD_CIDR=10.244.0.0/16

hm_rig() {
	. "$RIG/rig.env"
	HM_ID=$RIG_ID
	HM_HOST=10.213.$HM_ID.1
	HM_REG=$HM_HOST:5000
	HM_MASTER_IP=$(awk '$1 == "master" { print $2 }' "$RIG/machines.tsv")
	HM_PKI=$TMP/pki
	HM_KUBECTL=$KB/kubectl
}

hm_ip() { awk -v m="$1" '$1 == m { print $2 }' "$RIG/machines.tsv"; }

# hm_exec MACHINE CMD...: as root inside the machine, bounded
hm_exec() { timeout 120 "$SIM" exec --dir "$RIG" "$@"; }

# hm_wait SECONDS DESCRIPTION CMD...: polls CMD until it succeeds; on
# timeout prints what it waited for and fails
hm_wait() {
	local limit=$1 what=$2 end
	shift 2
	end=$(( $(date +%s) + limit ))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "# gave up after ${limit}s waiting for: $what"
			return 1
		fi
		sleep 0.5
	done
}

# --- certificates (openssl, by hand) ---------------------------------------

# hm_ca NAME: a CA in $HM_PKI/NAME.{crt,key}
hm_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$HM_PKI/$1.key" -out "$HM_PKI/$1.crt" -days 2 -subj "/CN=$1" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null
}

# hm_cert NAME CA SUBJECT EKU [SAN]: a leaf in $HM_PKI/NAME.{crt,key}
hm_cert() {
	local name=$1 ca=$2 subj=$3 eku=$4 san=${5-} ext=$HM_PKI/$1.ext
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$eku"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} >"$ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$HM_PKI/$name.key" -out "$HM_PKI/$name.csr" -subj "$subj" 2>/dev/null &&
	openssl x509 -req -in "$HM_PKI/$name.csr" -CA "$HM_PKI/$ca.crt" -CAkey "$HM_PKI/$ca.key" \
		-CAcreateserial -days 2 -extfile "$ext" -out "$HM_PKI/$name.crt" 2>/dev/null
}

# hm_kubeconfig FILE CA CERT USER: a kubeconfig with embedded credentials
hm_kubeconfig() {
	local f=$1 ca=$2 cert=$3 user=$4
	cat >"$f" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: handmade
	  cluster:
	    server: https://$HM_MASTER_IP:6443
	    certificate-authority-data: $(base64 -w0 <"$HM_PKI/$ca.crt")
	users:
	- name: $user
	  user:
	    client-certificate-data: $(base64 -w0 <"$HM_PKI/$cert.crt")
	    client-key-data: $(base64 -w0 <"$HM_PKI/$cert.key")
	contexts:
	- name: default
	  context: { cluster: handmade, user: $user }
	current-context: default
	EOF
	chmod 600 "$f"
}

hm_pki() {
	mkdir -p "$HM_PKI" && chmod 700 "$HM_PKI" || return 1
	hm_ca ca && hm_ca other-ca &&
	hm_cert apiserver ca "/CN=kube-apiserver" serverAuth \
		"DNS:master,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$HM_DOMAIN,IP:$HM_SERVICE_IP,IP:$HM_MASTER_IP,IP:127.0.0.1" &&
	hm_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth &&
	hm_cert admin ca "/O=system:masters/CN=kubernetes-admin" clientAuth &&
	hm_cert controller-manager ca "/CN=system:kube-controller-manager" clientAuth &&
	hm_cert scheduler ca "/CN=system:kube-scheduler" clientAuth &&
	hm_cert stranger other-ca "/O=system:masters/CN=kubernetes-admin" clientAuth &&
	openssl ecparam -name prime256v1 -genkey -noout -out "$HM_PKI/sa.key" 2>/dev/null &&
	openssl ec -in "$HM_PKI/sa.key" -pubout -out "$HM_PKI/sa.pub" 2>/dev/null || return 1
	hm_kubeconfig "$HM_PKI/admin.conf" ca admin kubernetes-admin
	hm_kubeconfig "$HM_PKI/controller-manager.conf" ca controller-manager system:kube-controller-manager
	hm_kubeconfig "$HM_PKI/scheduler.conf" ca scheduler system:kube-scheduler
	# a client certificate from another CA; and trust in another CA
	hm_kubeconfig "$HM_PKI/stranger.conf" ca stranger kubernetes-admin
	hm_kubeconfig "$HM_PKI/wrong-ca.conf" other-ca admin kubernetes-admin
}

# hm_node_certs NAME [ORGANISATION]: the kubelet's client and serving
# certificates and its kubeconfig
hm_node_certs() {
	local n=$1 o=${2:-system:nodes}
	hm_cert "kubelet-$n" ca "/O=$o/CN=system:node:$n" clientAuth &&
	hm_cert "kubelet-serving-$n" ca "/CN=$n" serverAuth "DNS:$n,IP:$(hm_ip "$n")" &&
	hm_kubeconfig "$HM_PKI/kubelet-$n.conf" ca "kubelet-$n" "system:node:$n"
}

kubectl_admin() { timeout 30 "$HM_KUBECTL" --kubeconfig "$HM_PKI/admin.conf" "$@"; }

# --- a machine's runtime and kubelet ---------------------------------------

# hm_runtime MACHINE: Debian's containerd, runc and CNI plugins installed
# through the machine's package manager, containerd configured for the
# rig's registry and started
hm_runtime() {
	local m=$1 d=$RIG/machines/$1
	hm_exec "$m" apt-get install -y -q containerd runc containernetworking-plugins >/dev/null || return 1
	mkdir -p "$d/etc/containerd/certs.d/$HM_REG" || return 1
	cp "$RIG/mirror/ca.crt" "$d/etc/containerd/certs.d/$HM_REG/ca.crt"
	cat >"$d/etc/containerd/certs.d/$HM_REG/hosts.toml" <<-EOF
	server = "https://$HM_REG"
	[host."https://$HM_REG"]
	  capabilities = ["pull", "resolve"]
	  ca = "/etc/containerd/certs.d/$HM_REG/ca.crt"
	EOF
	cat >"$d/etc/containerd/config.toml" <<-EOF
	version = 2
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "$HM_REG/pause:3.2"
	  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	    runtime_type = "io.containerd.runc.v2"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	      SystemdCgroup = false
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "/usr/lib/cni"
	    conf_dir = "/etc/cni/net.d"
	  [plugins."io.containerd.grpc.v1.cri".registry]
	    config_path = "/etc/containerd/certs.d"
	EOF
	hm_exec "$m" sh -c 'sysctl -w net.ipv4.ip_forward=1 >/dev/null; systemctl daemon-reload && systemctl start containerd' ||
		return 1
	hm_wait 30 "containerd on $m" hm_exec "$m" ctr version
}

# hm_cni MACHINE POD_SUBNET: the bridge plugin with host-local addresses
# from the node's pod subnet, and routes to the other machines' subnets
hm_cni() {
	local m=$1 subnet=$2 d=$RIG/machines/$1
	mkdir -p "$d/etc/cni/net.d"
	cat >"$d/etc/cni/net.d/10-handmade.conflist" <<-EOF
	{
	  "cniVersion": "0.4.0",
	  "name": "handmade",
	  "plugins": [
	    { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
	      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$subnet" }]],
	                "routes": [{ "dst": "0.0.0.0/0" }] } },
	    { "type": "loopback" }
	  ]
	}
	EOF
	cat >"$d/etc/cni/net.d/99-loopback.conf" <<-EOF
	{ "cniVersion": "0.4.0", "name": "lo", "type": "loopback" }
	EOF
}

# hm_kubelet MACHINE [EXTRA_CONFIG]: the real kubelet, its files written
# here, started through the machine's service manager
hm_kubelet() {
	local m=$1 extra=${2-} d=$RIG/machines/$1 ip
	ip=$(hm_ip "$m")
	install -m 0755 "$KB/kubelet" "$d/usr/local/bin/kubelet" || return 1
	mkdir -p "$d/etc/kubernetes/pki" "$d/etc/kubernetes/manifests" "$d/var/lib/kubelet/pki"
	cp "$HM_PKI/ca.crt" "$d/etc/kubernetes/pki/ca.crt"
	install -m 0600 "$HM_PKI/kubelet-$m.conf" "$d/etc/kubernetes/kubelet.conf"
	install -m 0644 "$HM_PKI/kubelet-serving-$m.crt" "$d/var/lib/kubelet/pki/kubelet.crt"
	install -m 0600 "$HM_PKI/kubelet-serving-$m.key" "$d/var/lib/kubelet/pki/kubelet.key"
	cat >"$d/var/lib/kubelet/config.yaml" <<-EOF
	apiVersion: kubelet.config.k8s.io/v1beta1
	kind: KubeletConfiguration
	authentication:
	  anonymous: { enabled: false }
	  webhook: { enabled: true }
	  x509: { clientCAFile: /etc/kubernetes/pki/ca.crt }
	authorization: { mode: Webhook }
	cgroupDriver: cgroupfs
	clusterDomain: $HM_DOMAIN
	clusterDNS: [ 10.96.0.10 ]
	staticPodPath: /etc/kubernetes/manifests
	fileCheckFrequency: 5s
	tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
	tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
	failSwapOn: false
	$extra
	EOF
	cat >"$d/etc/systemd/system/kubelet.service" <<-EOF
	[Unit]
	Description=kubelet (hand-made)
	After=containerd.service
	[Service]
	ExecStart=/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf --node-ip=$ip --hostname-override=$m --container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock
	Restart=always
	RestartSec=2
	EOF
	hm_exec "$m" sh -c 'systemctl daemon-reload && systemctl start kubelet'
}

# --- the control plane, as static pods -------------------------------------

hm_control_plane() {
	local d=$RIG/machines/master
	mkdir -p "$d/etc/kubernetes/pki" "$d/etc/kubernetes/manifests" "$d/var/lib/etcd"
	cp "$HM_PKI"/{ca.crt,ca.key,apiserver.crt,apiserver.key,apiserver-kubelet-client.crt,apiserver-kubelet-client.key,sa.key,sa.pub} \
		"$d/etc/kubernetes/pki/" || return 1
	chmod 600 "$d"/etc/kubernetes/pki/*.key
	install -m 0600 "$HM_PKI/controller-manager.conf" "$d/etc/kubernetes/controller-manager.conf"
	install -m 0600 "$HM_PKI/scheduler.conf" "$d/etc/kubernetes/scheduler.conf"
	cat >"$d/etc/kubernetes/manifests/etcd.yaml" <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: { name: etcd, namespace: kube-system }
	spec:
	  hostNetwork: true
	  containers:
	  - name: etcd
	    image: $HM_REG/etcd:3.4.13-0
	    command: [ etcd, --data-dir=/var/lib/etcd, --listen-client-urls=http://127.0.0.1:2379,
	               --advertise-client-urls=http://127.0.0.1:2379, --listen-peer-urls=http://127.0.0.1:2380,
	               --listen-metrics-urls=http://127.0.0.1:2381 ]
	    volumeMounts: [ { name: data, mountPath: /var/lib/etcd } ]
	  volumes: [ { name: data, hostPath: { path: /var/lib/etcd, type: DirectoryOrCreate } } ]
	EOF
	cat >"$d/etc/kubernetes/manifests/kube-apiserver.yaml" <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: { name: kube-apiserver, namespace: kube-system }
	spec:
	  hostNetwork: true
	  containers:
	  - name: kube-apiserver
	    image: $HM_REG/kube-apiserver:v$HM_VERSION
	    command: [ kube-apiserver, --advertise-address=$HM_MASTER_IP, --secure-port=6443, --insecure-port=0,
	               --etcd-servers=http://127.0.0.1:2379, "--authorization-mode=Node,RBAC",
	               --enable-admission-plugins=NodeRestriction, --client-ca-file=/etc/kubernetes/pki/ca.crt,
	               --tls-cert-file=/etc/kubernetes/pki/apiserver.crt, --tls-private-key-file=/etc/kubernetes/pki/apiserver.key,
	               --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt,
	               --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key,
	               --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt,
	               --kubelet-preferred-address-types=InternalIP,
	               --service-account-key-file=/etc/kubernetes/pki/sa.pub,
	               --service-account-signing-key-file=/etc/kubernetes/pki/sa.key,
	               --service-account-issuer=https://kubernetes.default.svc.$HM_DOMAIN,
	               --service-cluster-ip-range=$HM_SERVICE_CIDR, --allow-privileged=true ]
	    volumeMounts: [ { name: pki, mountPath: /etc/kubernetes/pki, readOnly: true } ]
	  volumes: [ { name: pki, hostPath: { path: /etc/kubernetes/pki, type: Directory } } ]
	EOF
	cat >"$d/etc/kubernetes/manifests/kube-controller-manager.yaml" <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: { name: kube-controller-manager, namespace: kube-system }
	spec:
	  hostNetwork: true
	  containers:
	  - name: kube-controller-manager
	    image: $HM_REG/kube-controller-manager:v$HM_VERSION
	    command: [ kube-controller-manager, --port=0, --bind-address=127.0.0.1,
	               --kubeconfig=/etc/kubernetes/controller-manager.conf,
	               --service-account-private-key-file=/etc/kubernetes/pki/sa.key,
	               --root-ca-file=/etc/kubernetes/pki/ca.crt, --use-service-account-credentials=true,
	               --cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt,
	               --cluster-signing-key-file=/etc/kubernetes/pki/ca.key,
	               --allocate-node-cidrs=true, --cluster-cidr=$HM_POD_CIDR, --node-cidr-mask-size=24,
	               --service-cluster-ip-range=$HM_SERVICE_CIDR ]
	    volumeMounts:
	    - { name: pki, mountPath: /etc/kubernetes/pki, readOnly: true }
	    - { name: conf, mountPath: /etc/kubernetes/controller-manager.conf, readOnly: true }
	  volumes:
	  - { name: pki, hostPath: { path: /etc/kubernetes/pki, type: Directory } }
	  - { name: conf, hostPath: { path: /etc/kubernetes/controller-manager.conf, type: File } }
	EOF
	cat >"$d/etc/kubernetes/manifests/kube-scheduler.yaml" <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: { name: kube-scheduler, namespace: kube-system }
	spec:
	  hostNetwork: true
	  containers:
	  - name: kube-scheduler
	    image: $HM_REG/kube-scheduler:v$HM_VERSION
	    command: [ kube-scheduler, --port=0, --bind-address=127.0.0.1,
	               --kubeconfig=/etc/kubernetes/scheduler.conf ]
	    volumeMounts: [ { name: conf, mountPath: /etc/kubernetes/scheduler.conf, readOnly: true } ]
	  volumes: [ { name: conf, hostPath: { path: /etc/kubernetes/scheduler.conf, type: File } } ]
	EOF
}
