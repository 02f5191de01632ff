// flannel CNI plugin (kubeup-sim stand-in for flannel-cni-plugin v1.0.0):
// Debian's containernetworking-plugins 1.1.1 has no "flannel" plugin. Like
// the real one, it reads /run/flannel/subnet.env (written by flanneld),
// fills in a delegate configuration (bridge + host-local by default) and
// runs the delegate plugin from CNI_PATH; the delegate configuration is
// kept under dataDir (/var/lib/cni/flannel/<container id>) for DEL.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	defaultSubnetFile = "/run/flannel/subnet.env"
	defaultDataDir    = "/var/lib/cni/flannel"
)

var cniVersion = "0.3.1"

// fail writes a CNI error on stdout and exits 1, as skel does.
func fail(code int, format string, a ...interface{}) {
	msg := fmt.Sprintf(format, a...)
	b, _ := json.Marshal(map[string]interface{}{"cniVersion": cniVersion, "code": code, "msg": msg})
	os.Stdout.Write(b)
	os.Stdout.Write([]byte("\n"))
	fmt.Fprintf(os.Stderr, "flannel: %s\n", msg)
	os.Exit(1)
}

type subnetEnv struct {
	network, subnet string
	mtu             int
	ipmasq          bool
}

func loadSubnetEnv(path string) (*subnetEnv, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	se := &subnetEnv{}
	seen := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: bad line %q", path, line)
		}
		seen[k] = true
		switch k {
		case "FLANNEL_NETWORK", "FLANNEL_SUBNET":
			// host-local wants the network's address (10.244.1.0/24 for
			// FLANNEL_SUBNET=10.244.1.1/24), as ParseCIDR gives it
			_, n, err := net.ParseCIDR(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s=%q is not a CIDR", path, k, v)
			}
			if k == "FLANNEL_NETWORK" {
				se.network = n.String()
			} else {
				se.subnet = n.String()
			}
		case "FLANNEL_MTU":
			if se.mtu, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("%s: FLANNEL_MTU %q", path, v)
			}
		case "FLANNEL_IPMASQ":
			se.ipmasq = v == "true"
		}
	}
	var missing []string
	for _, k := range []string{"FLANNEL_NETWORK", "FLANNEL_SUBNET", "FLANNEL_MTU", "FLANNEL_IPMASQ"} {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s is missing %s", path, strings.Join(missing, ", "))
	}
	return se, nil
}

func main() {
	cmd := os.Getenv("CNI_COMMAND")
	if cmd == "VERSION" {
		fmt.Println(`{"cniVersion":"1.0.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]}`)
		return
	}
	if cmd == "" {
		fmt.Fprintln(os.Stderr, "CNI flannel plugin v1.0.0 (kubeup-sim stand-in)")
		os.Exit(1)
	}
	in, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		fail(4, "reading the network configuration: %v", err)
	}
	var conf map[string]interface{}
	if err := json.Unmarshal(in, &conf); err != nil {
		fail(6, "failed to load netconf: %v", err)
	}
	if v, ok := conf["cniVersion"].(string); ok && v != "" {
		cniVersion = v
	}
	if t, _ := conf["type"].(string); t != "flannel" {
		fail(6, "network configuration type is %q, not flannel", t)
	}
	name, _ := conf["name"].(string)
	if name == "" {
		fail(6, "network configuration has no name")
	}
	cid := os.Getenv("CNI_CONTAINERID")
	if cid == "" || strings.ContainsAny(cid, "/\\") || cid == "." || cid == ".." {
		fail(4, "CNI_CONTAINERID %q is missing or not a plain name", cid)
	}
	subnetFile, dataDir := defaultSubnetFile, defaultDataDir
	if v, ok := conf["subnetFile"].(string); ok && v != "" {
		subnetFile = v
	}
	if v, ok := conf["dataDir"].(string); ok && v != "" {
		dataDir = v
	}
	saved := filepath.Join(dataDir, cid)

	switch cmd {
	case "ADD":
		se, err := loadSubnetEnv(subnetFile)
		if err != nil {
			fail(11, "failed to load flannel 'subnet.env' file: %v. Check the flannel pod log for this node.", err)
		}
		d := map[string]interface{}{}
		if v, ok := conf["delegate"]; ok {
			m, ok := v.(map[string]interface{})
			if !ok {
				fail(6, "\"delegate\" must be an object")
			}
			d = m
		}
		d["name"] = name
		if _, ok := d["type"]; !ok {
			d["type"] = "bridge"
		}
		if _, ok := d["ipMasq"]; !ok {
			d["ipMasq"] = !se.ipmasq // flannel masquerades already, or the bridge must
		}
		if _, ok := d["mtu"]; !ok {
			d["mtu"] = se.mtu
		}
		if d["type"] == "bridge" {
			if _, ok := d["isGateway"]; !ok {
				d["isGateway"] = true
			}
		}
		d["cniVersion"] = cniVersion
		ipam := map[string]interface{}{}
		if v, ok := conf["ipam"].(map[string]interface{}); ok {
			ipam = v
		}
		if _, ok := ipam["type"]; !ok {
			ipam["type"] = "host-local"
		}
		ipam["ranges"] = []interface{}{[]interface{}{map[string]string{"subnet": se.subnet}}}
		ipam["routes"] = []interface{}{map[string]string{"dst": se.network}}
		delete(ipam, "subnet")
		d["ipam"] = ipam
		for _, k := range []string{"runtimeConfig", "args"} {
			if v, ok := conf[k]; ok {
				d[k] = v
			}
		}
		b, _ := json.Marshal(d)
		if err := os.MkdirAll(dataDir, 0700); err != nil {
			fail(11, "%v", err)
		}
		if err := os.WriteFile(saved, b, 0600); err != nil {
			fail(11, "saving the delegate configuration: %v", err)
		}
		if err := delegate(d["type"], b); err != nil {
			os.Remove(saved)
			os.Exit(1)
		}
	case "DEL":
		b, err := os.ReadFile(saved)
		if os.IsNotExist(err) {
			return // deleted already: DEL must succeed again
		}
		if err != nil {
			fail(11, "%v", err)
		}
		var d map[string]interface{}
		if err := json.Unmarshal(b, &d); err != nil {
			fail(11, "%s: %v", saved, err)
		}
		if err := delegate(d["type"], b); err != nil {
			os.Exit(1)
		}
		os.Remove(saved)
	case "CHECK":
		b, err := os.ReadFile(saved)
		if err != nil {
			fail(11, "no delegate configuration for container %s: %v", cid, err)
		}
		var d map[string]interface{}
		json.Unmarshal(b, &d)
		if pr, ok := conf["prevResult"]; ok {
			d["prevResult"] = pr
			b, _ = json.Marshal(d)
		}
		if err := delegate(d["type"], b); err != nil {
			os.Exit(1)
		}
	default:
		fail(4, "unknown CNI_COMMAND %q", cmd)
	}
}

// delegate runs the plugin TYPE from CNI_PATH with conf on its stdin and
// the same CNI_* environment; its stdout becomes ours.
func delegate(typ interface{}, conf []byte) error {
	t, _ := typ.(string)
	if t == "" || strings.ContainsAny(t, "/\\") {
		fail(6, "delegate type %q is not a plugin name", t)
	}
	var path string
	for _, dir := range filepath.SplitList(os.Getenv("CNI_PATH")) {
		p := filepath.Join(dir, t)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0111 != 0 {
			path = p
			break
		}
	}
	if path == "" {
		fail(5, "failed to find plugin %q in path [%s]", t, os.Getenv("CNI_PATH"))
	}
	var out bytes.Buffer
	c := exec.Command(path)
	c.Stdin = bytes.NewReader(conf)
	c.Stdout = &out
	c.Stderr = os.Stderr
	err := c.Run()
	os.Stdout.Write(out.Bytes())
	if err != nil {
		fmt.Fprintf(os.Stderr, "flannel: delegate %s failed: %v\n", t, err)
	}
	return err
}
