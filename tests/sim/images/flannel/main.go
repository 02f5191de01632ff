// flanneld stand-in (kubeup-sim): flannel v0.13's observable job with the
// Kubernetes subnet manager, on the simulated machines.
//
// It takes exactly what templates/network/flannel.yaml gives the
// kube-flannel container: the arguments --ip-masq --kube-subnet-mgr, the
// env POD_NAME, POD_NAMESPACE (the node is the pod's spec.nodeName),
// KUBERNETES_SERVICE_HOST/PORT, EVENT_QUEUE_DEPTH, the service account
// mount, /etc/kube-flannel/net-conf.json and /run/flannel. Then, as flannel
// does: reads this node's podCIDR, writes /run/flannel/subnet.env,
// annotates the node and marks its network available, adds the --ip-masq
// iptables rules, and keeps one route per other node (its podCIDR via its
// InternalIP, which is what flannel's host-gw backend programs). A
// "vxlan" backend in net-conf.json is accepted and served the same way
// (the machines share one L2 segment, so direct routes reach every node;
// no VXLAN device is made): see tests/sim/README.md.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kubeup-sim/images/internal/kube"
)

const (
	netConfPath  = "/etc/kube-flannel/net-conf.json"
	subnetFile   = "/run/flannel/subnet.env"
	pollInterval = 3 * time.Second
	apiGiveUp    = 60 * time.Second // the API unreachable this long: exit
)

func fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "flanneld: "+format+"\n", a...)
	os.Exit(1)
}

func logf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s flanneld: %s\n", time.Now().UTC().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

type netConf struct {
	Network        string `json:"Network"`
	IPv6Network    string `json:"IPv6Network"`
	EnableIPv4     *bool  `json:"EnableIPv4"`
	EnableIPv6     bool   `json:"EnableIPv6"`
	EnableNFTables bool   `json:"EnableNFTables"`
	SubnetLen      int    `json:"SubnetLen"`
	Backend        struct {
		Type string `json:"Type"`
	} `json:"Backend"`
}

func main() {
	ipMasq, subnetMgr := false, false
	for _, a := range os.Args[1:] {
		switch a {
		case "--ip-masq", "-ip-masq", "--ip-masq=true":
			ipMasq = true
		case "--kube-subnet-mgr", "-kube-subnet-mgr", "--kube-subnet-mgr=true":
			subnetMgr = true
		case "--version", "-version":
			fmt.Println("v0.13.0 (kubeup-sim stand-in)")
			return
		default:
			fatal("unknown or unsimulated flag %q (the stand-in takes --ip-masq and --kube-subnet-mgr, as templates/network/flannel.yaml gives them)", a)
		}
	}
	if !subnetMgr {
		fatal("without --kube-subnet-mgr flannel would use etcd, which this stand-in does not simulate")
	}
	if d := os.Getenv("EVENT_QUEUE_DEPTH"); d != "" {
		if n, err := strconv.Atoi(d); err != nil || n < 1 {
			fatal("EVENT_QUEUE_DEPTH=%q is not a positive number", d)
		}
	}
	podName, podNS := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if podName == "" || podNS == "" {
		fatal("POD_NAME and POD_NAMESPACE must be set (with --kube-subnet-mgr flannel finds its node from its pod)")
	}

	// net-conf.json, as flannel reads it
	raw, err := os.ReadFile(netConfPath)
	if err != nil {
		fatal("failed to read net conf: %v", err)
	}
	var nc netConf
	if err := json.Unmarshal(raw, &nc); err != nil {
		fatal("error parsing subnet config: %v", err)
	}
	if nc.EnableIPv6 || nc.IPv6Network != "" {
		fatal("IPv6 networks are not simulated (net-conf.json has EnableIPv6/IPv6Network)")
	}
	if nc.EnableIPv4 != nil && !*nc.EnableIPv4 {
		fatal("EnableIPv4 is false and IPv6 is not simulated")
	}
	if nc.EnableNFTables {
		fatal("EnableNFTables is not simulated (and flannel v0.13 does not know it)")
	}
	_, network, err := net.ParseCIDR(nc.Network)
	if err != nil || network.IP.To4() == nil {
		fatal("net-conf.json: Network %q is not an IPv4 CIDR", nc.Network)
	}
	switch nc.Backend.Type {
	case "vxlan", "host-gw":
	case "":
		fatal("net-conf.json: Backend.Type is missing")
	default:
		fatal("net-conf.json: backend %q is not simulated (vxlan and host-gw are)", nc.Backend.Type)
	}

	c, err := kube.InCluster()
	if err != nil {
		fatal("%v", err)
	}
	if _, err := c.WaitReachable(30 * time.Second); err != nil {
		fatal("%v", err)
	}
	var pod kube.Pod
	if err := c.Get("/api/v1/namespaces/"+podNS+"/pods/"+podName, &pod); err != nil {
		fatal("failed to get pod %s/%s: %v", podNS, podName, err)
	}
	nodeName := pod.Spec.NodeName
	if nodeName == "" {
		fatal("pod %s/%s has no spec.nodeName", podNS, podName)
	}
	var node kube.Node
	if err := c.Get("/api/v1/nodes/"+nodeName, &node); err != nil {
		fatal("failed to get node %s: %v", nodeName, err)
	}
	if node.Spec.PodCIDR == "" {
		fatal("failed to acquire lease: node %q pod cidr not assigned", nodeName)
	}
	podIP, podNet, err := net.ParseCIDR(node.Spec.PodCIDR)
	if err != nil || podIP.To4() == nil {
		fatal("node %s: podCIDR %q is not an IPv4 CIDR", nodeName, node.Spec.PodCIDR)
	}
	if !within(podNet, network) {
		fatal("node %s: podCIDR %s is not inside the flannel Network %s", nodeName, podNet, network)
	}
	publicIP := node.Address("InternalIP")
	if publicIP == "" {
		fatal("node %s has no InternalIP address", nodeName)
	}
	iface, mtu, err := ifaceOf(publicIP)
	if err != nil {
		fatal("node %s: %v", nodeName, err)
	}
	logf("node %s, podCIDR %s, public IP %s on %s (mtu %d), backend %s", nodeName, podNet, publicIP, iface, mtu, nc.Backend.Type)
	if nc.Backend.Type == "vxlan" {
		mtu -= 50 // what flannel's vxlan backend leaves for the pods
	}

	// /run/flannel/subnet.env, as flannel writes it
	gw := nextIP(podNet.IP)
	ones, _ := podNet.Mask.Size()
	env := fmt.Sprintf("FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=%s/%d\nFLANNEL_MTU=%d\nFLANNEL_IPMASQ=%v\n",
		network, gw, ones, mtu, ipMasq)
	if err := writeAtomic(subnetFile, []byte(env)); err != nil {
		fatal("failed to write %s: %v", subnetFile, err)
	}

	if ipMasq {
		if err := masqRules(network.String(), podNet.String()); err != nil {
			fatal("failed to set up IP masquerade: %v", err)
		}
	}
	forwardRules(network.String())
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil && strings.TrimSpace(string(b)) != "1" {
		logf("warning: net.ipv4.ip_forward is 0 in this network namespace: pods on other nodes will not reach this node's pods")
	}

	// the node's annotations and its NetworkUnavailable condition, through
	// nodes/status as flannel's kube subnet manager patches them
	now := time.Now().UTC().Format(time.RFC3339)
	patch := map[string]interface{}{
		"metadata": map[string]interface{}{"annotations": map[string]string{
			"flannel.alpha.coreos.com/backend-type":        "host-gw",
			"flannel.alpha.coreos.com/backend-data":        "null",
			"flannel.alpha.coreos.com/kube-subnet-manager": "true",
			"flannel.alpha.coreos.com/public-ip":           publicIP,
		}},
		"status": map[string]interface{}{"conditions": []map[string]string{{
			"type": "NetworkUnavailable", "status": "False", "reason": "FlannelIsUp",
			"message": "Flannel is running on this node", "lastTransitionTime": now, "lastHeartbeatTime": now,
		}}},
	}
	if err := c.Do("PATCH", "/api/v1/nodes/"+nodeName+"/status", patch, "application/strategic-merge-patch+json", nil); err != nil {
		fatal("failed to patch node %s: %v", nodeName, err)
	}
	logf("wrote %s; watching nodes every %s", subnetFile, pollInterval)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	routes := map[string]string{} // podCIDR -> gateway we installed
	lastOK := time.Now()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		var nodes kube.NodeList
		if err := c.Get("/api/v1/nodes", &nodes); err != nil {
			if time.Since(lastOK) > apiGiveUp {
				fatal("lost the API server for more than %s: %v", apiGiveUp, err)
			}
			logf("listing nodes: %v", err)
		} else {
			lastOK = time.Now()
			syncRoutes(nodes.Items, nodeName, network, iface, routes)
		}
		select {
		case s := <-sig:
			logf("%v: exiting (routes stay, as flannel leaves them)", s)
			os.Exit(0)
		case <-tick.C:
		}
	}
}

// syncRoutes makes the routing table hold one route per other node's
// podCIDR via its InternalIP, and none for nodes that are gone.
func syncRoutes(nodes []kube.Node, self string, network *net.IPNet, iface string, routes map[string]string) {
	want := map[string]string{}
	for i := range nodes {
		n := &nodes[i]
		if n.Metadata.Name == self || n.Spec.PodCIDR == "" {
			continue
		}
		_, pn, err := net.ParseCIDR(n.Spec.PodCIDR)
		gw := net.ParseIP(n.Address("InternalIP"))
		if err != nil || gw == nil || !within(pn, network) {
			logf("node %s: skipped (podCIDR %q, InternalIP %q)", n.Metadata.Name, n.Spec.PodCIDR, n.Address("InternalIP"))
			continue
		}
		want[pn.String()] = gw.String()
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, dst := range keys {
		if routes[dst] == want[dst] {
			continue
		}
		if out, err := run("ip", "route", "replace", dst, "via", want[dst], "dev", iface); err != nil {
			logf("route %s via %s: %v: %s", dst, want[dst], err, out)
			continue
		}
		logf("route %s via %s dev %s", dst, want[dst], iface)
		routes[dst] = want[dst]
	}
	for dst, gw := range routes {
		if _, ok := want[dst]; ok {
			continue
		}
		if out, err := run("ip", "route", "del", dst, "via", gw, "dev", iface); err != nil {
			logf("removing route %s via %s: %v: %s", dst, gw, err, out)
		} else {
			logf("removed route %s via %s (node gone)", dst, gw)
		}
		delete(routes, dst)
	}
}

// masqRules: flannel v0.13's --ip-masq rules in nat POSTROUTING.
func masqRules(network, podNet string) error {
	rules := [][]string{
		{"-s", network, "-d", network, "-m", "comment", "--comment", "flanneld masq", "-j", "RETURN"},
		{"-s", network, "!", "-d", "224.0.0.0/4", "-m", "comment", "--comment", "flanneld masq", "-j", "MASQUERADE", "--random-fully"},
		{"!", "-s", network, "-d", podNet, "-m", "comment", "--comment", "flanneld masq", "-j", "RETURN"},
		{"!", "-s", network, "-d", network, "-m", "comment", "--comment", "flanneld masq", "-j", "MASQUERADE", "--random-fully"},
	}
	for _, r := range rules {
		if err := ensureRule("nat", "POSTROUTING", r); err != nil {
			return err
		}
	}
	return nil
}

// forwardRules: flannel accepts forwarded pod traffic in the filter table.
func forwardRules(network string) {
	for _, r := range [][]string{
		{"-s", network, "-m", "comment", "--comment", "flanneld forward", "-j", "ACCEPT"},
		{"-d", network, "-m", "comment", "--comment", "flanneld forward", "-j", "ACCEPT"},
	} {
		if err := ensureRule("filter", "FORWARD", r); err != nil {
			logf("warning: %v", err)
		}
	}
}

func ensureRule(table, chain string, rule []string) error {
	check := append([]string{"-w", "5", "-t", table, "-C", chain}, rule...)
	if _, err := run("iptables", check...); err == nil {
		return nil
	}
	add := append([]string{"-w", "5", "-t", table, "-A", chain}, rule...)
	if out, err := run("iptables", add...); err != nil {
		return fmt.Errorf("iptables %s: %v: %s", strings.Join(add, " "), err, out)
	}
	return nil
}

func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
		<-done
		err = fmt.Errorf("timed out after 20s")
	}
	return strings.TrimSpace(string(out)), err
}

func within(inner, outer *net.IPNet) bool {
	oi, _ := inner.Mask.Size()
	oo, _ := outer.Mask.Size()
	return oi >= oo && outer.Contains(inner.IP)
}

func nextIP(ip net.IP) net.IP {
	v := make(net.IP, 4)
	copy(v, ip.To4())
	for i := 3; i >= 0; i-- {
		v[i]++
		if v[i] != 0 {
			break
		}
	}
	return v
}

// ifaceOf: the interface that holds addr, and its MTU.
func ifaceOf(addr string) (string, int, error) {
	ip := net.ParseIP(addr)
	ifs, err := net.Interfaces()
	if err != nil {
		return "", 0, err
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return ifc.Name, ifc.MTU, nil
			}
		}
	}
	return "", 0, fmt.Errorf("no interface of this machine has its InternalIP %s", addr)
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(path[:strings.LastIndex(path, "/")], 0755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
