// metrics-server stand-in (kubeup-sim, for metrics-server v0.4.1,
// entrypoint /metrics-server). Flags: exactly those of
// templates/addons/metrics-server.yaml (--cert-dir, --secure-port,
// --kubelet-preferred-address-types, --kubelet-use-node-status-port,
// --metric-resolution); any other is refused.
//
// As metrics-server does, it
//   - writes a self-signed serving certificate to --cert-dir
//     (apiserver.crt, apiserver.key) and serves HTTPS on --secure-port;
//   - reads kube-system/extension-apiserver-authentication at start (fatal
//     when it cannot) and authenticates the aggregator by its front-proxy
//     client certificate (signed by the requestheader CA, CN among the
//     allowed names) and the X-Remote-User/Group headers, or a bearer
//     token by TokenReview; authorizes every request but /livez, /readyz
//     and /healthz by SubjectAccessReview;
//   - scrapes every node's kubelet at its preferred address and port
//     (https://IP:PORT/metrics/resource, the service account's token,
//     the kubelet's certificate checked against the cluster CA) every
//     --metric-resolution, and serves metrics.k8s.io/v1beta1 NodeMetrics
//     and PodMetrics computed from two samples (CPU rate, working set).
//
// Label and field selectors are not simulated (every object is listed).
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"kubeup-sim/images/internal/kube"
)

func fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "metrics-server: "+format+"\n", a...)
	os.Exit(1)
}

func logf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s metrics-server: %s\n", time.Now().UTC().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

// --- options ---

type options struct {
	certDir        string
	securePort     int
	addressTypes   []string
	nodeStatusPort bool
	resolution     time.Duration
}

func parseFlags(args []string) (*options, error) {
	o := &options{securePort: 443, resolution: 60 * time.Second,
		addressTypes: []string{"Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP"}}
	for _, a := range args {
		k, v, hasV := strings.Cut(a, "=")
		switch k {
		case "--cert-dir":
			if !hasV || !strings.HasPrefix(v, "/") {
				return nil, fmt.Errorf("--cert-dir needs an absolute path")
			}
			o.certDir = v
		case "--secure-port":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("--secure-port: bad port %q", v)
			}
			o.securePort = n
		case "--kubelet-preferred-address-types":
			o.addressTypes = nil
			for _, t := range strings.Split(v, ",") {
				switch t {
				case "Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP":
					o.addressTypes = append(o.addressTypes, t)
				default:
					return nil, fmt.Errorf("--kubelet-preferred-address-types: unknown type %q", t)
				}
			}
		case "--kubelet-use-node-status-port":
			if hasV && v != "true" {
				return nil, fmt.Errorf("--kubelet-use-node-status-port=%s is not simulated", v)
			}
			o.nodeStatusPort = true
		case "--metric-resolution":
			d, err := time.ParseDuration(v)
			if err != nil || d < 10*time.Second {
				return nil, fmt.Errorf("--metric-resolution: %q (at least 10s)", v)
			}
			o.resolution = d
		default:
			return nil, fmt.Errorf("unknown or unsimulated flag %q", a)
		}
	}
	if o.certDir == "" {
		return nil, fmt.Errorf("--cert-dir is needed (the root file system is read-only)")
	}
	return o, nil
}

// --- storage: the last two samples of every node and container ---

type point struct {
	ts  time.Time
	cpu float64 // seconds, cumulative
	mem float64 // bytes
}

type series struct{ prev, last point }

func (s *series) add(p point) {
	if !p.ts.After(s.last.ts) {
		return
	}
	s.prev, s.last = s.last, p
}

// usage: CPU in nanocores over the window, memory; ok once two samples exist.
func (s *series) usage() (cpu int64, mem int64, window time.Duration, ok bool) {
	if s.prev.ts.IsZero() || s.last.cpu < s.prev.cpu {
		return 0, 0, 0, false
	}
	window = s.last.ts.Sub(s.prev.ts)
	return int64((s.last.cpu - s.prev.cpu) / window.Seconds() * 1e9), int64(s.last.mem), window, true
}

type store struct {
	mu    sync.RWMutex
	nodes map[string]*series
	ctrs  map[string]map[string]*series // ns/pod -> container -> series
}

// parseResource reads the kubelet's /metrics/resource text.
func parseResource(r io.Reader, now time.Time) (node point, ctrs map[string]map[string]point, err error) {
	ctrs = map[string]map[string]point{}
	node.ts = now
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	seen := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, rest := line, "", ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, labels, rest = line[:i], line[i+1:j], strings.TrimSpace(line[j+1:])
		} else {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, rest = f[0], strings.Join(f[1:], " ")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		ts := now
		if len(f) > 1 {
			if ms, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				ts = time.UnixMilli(ms)
			}
		}
		switch name {
		case "node_cpu_usage_seconds_total":
			node.cpu, node.ts = v, ts
			seen |= 1
		case "node_memory_working_set_bytes":
			node.mem = v
			seen |= 2
		case "container_cpu_usage_seconds_total", "container_memory_working_set_bytes":
			l := parseLabels(labels)
			key := l["namespace"] + "/" + l["pod"]
			if ctrs[key] == nil {
				ctrs[key] = map[string]point{}
			}
			p := ctrs[key][l["container"]]
			if name == "container_cpu_usage_seconds_total" {
				p.cpu, p.ts = v, ts
			} else {
				p.mem = v
			}
			ctrs[key][l["container"]] = p
		}
	}
	if err := sc.Err(); err != nil {
		return node, nil, err
	}
	if seen != 3 {
		return node, nil, fmt.Errorf("no node_cpu_usage_seconds_total and node_memory_working_set_bytes in the answer")
	}
	return node, ctrs, nil
}

func parseLabels(s string) map[string]string {
	m := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			break
		}
		k := strings.TrimSpace(s[:eq])
		end := strings.IndexByte(s[eq+2:], '"')
		if end < 0 {
			break
		}
		m[k] = s[eq+2 : eq+2+end]
		s = strings.TrimLeft(s[eq+2+end+1:], ", ")
	}
	return m
}

// --- scraping ---

type scraper struct {
	o     *options
	c     *kube.Client
	st    *store
	http  *http.Client
	ready chan struct{}
	once  sync.Once
}

func (s *scraper) addressOf(n *kube.Node) (string, error) {
	for _, t := range s.o.addressTypes {
		if a := n.Address(t); a != "" {
			port := 10250
			if s.o.nodeStatusPort {
				port = n.Status.DaemonEndpoints.KubeletEndpoint.Port
				if port == 0 {
					return "", fmt.Errorf("node %s reports no kubelet port", n.Metadata.Name)
				}
			}
			return net.JoinHostPort(a, strconv.Itoa(port)), nil
		}
	}
	return "", fmt.Errorf("node %s has no address of the types %s", n.Metadata.Name, strings.Join(s.o.addressTypes, ","))
}

func (s *scraper) scrapeAll() {
	var nodes kube.NodeList
	if err := s.c.Get("/api/v1/nodes", &nodes); err != nil {
		logf("unable to list nodes: %v", err)
		return
	}
	var wg sync.WaitGroup
	for i := range nodes.Items {
		n := &nodes.Items[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.scrapeNode(n); err != nil {
				logf("unable to fully scrape metrics from node %s: %v", n.Metadata.Name, err)
			}
		}()
	}
	wg.Wait()
	s.st.mu.RLock()
	for _, se := range s.st.nodes {
		if _, _, _, ok := se.usage(); ok {
			s.once.Do(func() { close(s.ready) })
			break
		}
	}
	s.st.mu.RUnlock()
}

func (s *scraper) scrapeNode(n *kube.Node) error {
	addr, err := s.addressOf(n)
	if err != nil {
		return err
	}
	req, _ := http.NewRequest("GET", "https://"+addr+"/metrics/resource", nil)
	req.Header.Set("Authorization", "Bearer "+s.c.Token())
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("GET https://%s/metrics/resource: HTTP %d: %s", addr, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	np, cs, err := parseResource(resp.Body, time.Now())
	if err != nil {
		return fmt.Errorf("https://%s/metrics/resource: %v", addr, err)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.st.nodes[n.Metadata.Name] == nil {
		s.st.nodes[n.Metadata.Name] = &series{}
	}
	s.st.nodes[n.Metadata.Name].add(np)
	for pod, m := range cs {
		if s.st.ctrs[pod] == nil {
			s.st.ctrs[pod] = map[string]*series{}
		}
		for ct, p := range m {
			if s.st.ctrs[pod][ct] == nil {
				s.st.ctrs[pod][ct] = &series{}
			}
			s.st.ctrs[pod][ct].add(p)
		}
	}
	return nil
}

// --- authentication and authorization, delegated to the API server ---

type authn struct {
	c            *kube.Client
	reqCA        *x509.CertPool
	clientCA     *x509.CertPool
	allowed      []string
	userHeaders  []string
	groupHeaders []string
	mu           sync.Mutex
	cache        map[string]cached
}

type cached struct {
	ok  bool
	exp time.Time
}

func loadAuthConfig(c *kube.Client) (*authn, error) {
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := c.Get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication", &cm); err != nil {
		return nil, fmt.Errorf("unable to load configmap based request-header-client-ca-file: %v", err)
	}
	a := &authn{c: c, cache: map[string]cached{}}
	if pem := cm.Data["requestheader-client-ca-file"]; pem != "" {
		a.reqCA = x509.NewCertPool()
		if !a.reqCA.AppendCertsFromPEM([]byte(pem)) {
			return nil, fmt.Errorf("requestheader-client-ca-file holds no certificate")
		}
	}
	if pem := cm.Data["client-ca-file"]; pem != "" {
		a.clientCA = x509.NewCertPool()
		a.clientCA.AppendCertsFromPEM([]byte(pem))
	}
	for k, dst := range map[string]*[]string{"requestheader-allowed-names": &a.allowed,
		"requestheader-username-headers": &a.userHeaders, "requestheader-group-headers": &a.groupHeaders} {
		if v := cm.Data[k]; v != "" {
			if err := json.Unmarshal([]byte(v), dst); err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
		}
	}
	if a.reqCA == nil {
		return nil, fmt.Errorf("extension-apiserver-authentication has no requestheader-client-ca-file: the apiserver lacks --requestheader-client-ca-file")
	}
	return a, nil
}

// user: who sent r (name, groups), "" for anonymous; an error for bad
// credentials.
func (a *authn) user(r *http.Request) (string, []string, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		leaf := r.TLS.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		vo := x509.VerifyOptions{Roots: a.reqCA, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if _, err := leaf.Verify(vo); err == nil {
			if len(a.allowed) > 0 && !contains(a.allowed, leaf.Subject.CommonName) {
				return "", nil, fmt.Errorf("requestheader client certificate CN %q is not in requestheader-allowed-names", leaf.Subject.CommonName)
			}
			for _, h := range a.userHeaders {
				if u := r.Header.Get(h); u != "" {
					var groups []string
					for _, g := range a.groupHeaders {
						groups = append(groups, r.Header.Values(g)...)
					}
					return u, groups, nil
				}
			}
		} else if a.clientCA != nil {
			vo.Roots = a.clientCA
			if _, err := leaf.Verify(vo); err == nil {
				return leaf.Subject.CommonName, leaf.Subject.Organization, nil
			}
			return "", nil, fmt.Errorf("client certificate signed by an unknown authority")
		}
	}
	if t := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); t != r.Header.Get("Authorization") && t != "" {
		var tr struct {
			Status struct {
				Authenticated bool `json:"authenticated"`
				User          struct {
					Username string   `json:"username"`
					Groups   []string `json:"groups"`
				} `json:"user"`
			} `json:"status"`
		}
		body := map[string]interface{}{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": map[string]string{"token": t}}
		if err := a.c.Do("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body, "", &tr); err != nil {
			return "", nil, fmt.Errorf("token review: %v", err)
		}
		if !tr.Status.Authenticated {
			return "", nil, fmt.Errorf("invalid bearer token")
		}
		return tr.Status.User.Username, tr.Status.User.Groups, nil
	}
	return "system:anonymous", []string{"system:unauthenticated"}, nil
}

func (a *authn) allowed_(user string, groups []string, attrs map[string]interface{}, key string) (bool, error) {
	ck := user + "|" + strings.Join(groups, ",") + "|" + key
	a.mu.Lock()
	if c, ok := a.cache[ck]; ok && time.Now().Before(c.exp) {
		a.mu.Unlock()
		return c.ok, nil
	}
	a.mu.Unlock()
	spec := map[string]interface{}{"user": user, "groups": groups}
	for k, v := range attrs {
		spec[k] = v
	}
	var sar struct {
		Status struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
		} `json:"status"`
	}
	body := map[string]interface{}{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
	if err := a.c.Do("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body, "", &sar); err != nil {
		return false, err
	}
	a.mu.Lock()
	a.cache[ck] = cached{sar.Status.Allowed, time.Now().Add(10 * time.Second)}
	a.mu.Unlock()
	return sar.Status.Allowed, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// --- the API ---

const gv = "metrics.k8s.io/v1beta1"

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]interface{}{"kind": "Status", "apiVersion": "v1", "metadata": map[string]string{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func quantityCPU(n int64) string { return strconv.FormatInt(n, 10) + "n" }
func quantityMem(b int64) string {
	if b%1024 == 0 {
		return strconv.FormatInt(b/1024, 10) + "Ki"
	}
	return strconv.FormatInt(b, 10)
}

func (s *scraper) nodeMetrics(name string) (map[string]interface{}, bool) {
	se := s.st.nodes[name]
	if se == nil {
		return nil, false
	}
	cpu, mem, win, ok := se.usage()
	if !ok {
		return nil, false
	}
	return map[string]interface{}{
		"metadata":  map[string]interface{}{"name": name, "creationTimestamp": time.Now().UTC().Format(time.RFC3339)},
		"timestamp": se.last.ts.UTC().Format(time.RFC3339),
		"window":    win.Round(time.Second).String(),
		"usage":     map[string]string{"cpu": quantityCPU(cpu), "memory": quantityMem(mem)},
	}, true
}

func (s *scraper) podMetrics(key string) (map[string]interface{}, bool) {
	m := s.st.ctrs[key]
	if m == nil {
		return nil, false
	}
	ns, name, _ := strings.Cut(key, "/")
	var ctrs []map[string]interface{}
	var ts time.Time
	var win time.Duration
	names := make([]string, 0, len(m))
	for ct := range m {
		names = append(names, ct)
	}
	sort.Strings(names)
	for _, ct := range names {
		cpu, mem, w, ok := m[ct].usage()
		if !ok {
			continue
		}
		ts, win = m[ct].last.ts, w
		ctrs = append(ctrs, map[string]interface{}{"name": ct, "usage": map[string]string{"cpu": quantityCPU(cpu), "memory": quantityMem(mem)}})
	}
	if len(ctrs) == 0 {
		return nil, false
	}
	return map[string]interface{}{
		"metadata":   map[string]interface{}{"name": name, "namespace": ns, "creationTimestamp": time.Now().UTC().Format(time.RFC3339)},
		"timestamp":  ts.UTC().Format(time.RFC3339),
		"window":     win.Round(time.Second).String(),
		"containers": ctrs,
	}, true
}

func (s *scraper) serveAPI(w http.ResponseWriter, r *http.Request, a *authn) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch path {
	case "/livez", "/healthz":
		io.WriteString(w, "ok")
		return
	case "/readyz":
		select {
		case <-s.ready:
			io.WriteString(w, "ok")
		default:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "[-]metric-storage-ready failed: not metrics to serve\nreadyz check failed\n")
		}
		return
	}
	if r.Method != "GET" {
		status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET is served")
		return
	}
	user, groups, err := a.user(r)
	if err != nil {
		status(w, http.StatusUnauthorized, "Unauthorized", err.Error())
		return
	}
	// what is asked: discovery, or a resource
	var attrs map[string]interface{}
	var key string
	rest := strings.TrimPrefix(path, "/apis/"+gv)
	parts := []string{}
	if rest != path && rest != "" {
		parts = strings.Split(strings.TrimPrefix(rest, "/"), "/")
	}
	ns, res, name := "", "", ""
	switch {
	case rest == path || rest == "":
		attrs = map[string]interface{}{"nonResourceAttributes": map[string]string{"path": path, "verb": "get"}}
		key = "nr:" + path
	case len(parts) == 1 && (parts[0] == "nodes" || parts[0] == "pods"):
		res = parts[0]
	case len(parts) == 2 && (parts[0] == "nodes" || parts[0] == "pods"):
		res, name = parts[0], parts[1]
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "pods":
		ns, res = parts[1], "pods"
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods":
		ns, res, name = parts[1], "pods", parts[3]
	default:
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	if attrs == nil {
		verb := "list"
		if name != "" {
			verb = "get"
		}
		attrs = map[string]interface{}{"resourceAttributes": map[string]string{"group": "metrics.k8s.io", "version": "v1beta1",
			"resource": res, "namespace": ns, "name": name, "verb": verb}}
		key = strings.Join([]string{verb, res, ns, name}, "/")
	}
	ok, err := a.allowed_(user, groups, attrs, key)
	if err != nil {
		status(w, http.StatusInternalServerError, "InternalError", "authorization: "+err.Error())
		return
	}
	if !ok {
		status(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("user %q cannot %s %s", user, r.Method, path))
		return
	}
	switch {
	case path == "/apis":
		writeJSON(w, 200, map[string]interface{}{"kind": "APIGroupList", "apiVersion": "v1", "groups": []interface{}{groupDoc()}})
	case path == "/apis/metrics.k8s.io":
		g := groupDoc()
		g["kind"], g["apiVersion"] = "APIGroup", "v1"
		writeJSON(w, 200, g)
	case rest == "":
		writeJSON(w, 200, map[string]interface{}{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
			"resources": []map[string]interface{}{
				{"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": []string{"get", "list"}},
				{"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": []string{"get", "list"}},
			}})
	default:
		if rest == path {
			status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
			return
		}
		s.st.mu.RLock()
		defer s.st.mu.RUnlock()
		kind := map[string]string{"nodes": "NodeMetrics", "pods": "PodMetrics"}[res]
		if name != "" {
			var obj map[string]interface{}
			var found bool
			if res == "nodes" {
				obj, found = s.nodeMetrics(name)
			} else {
				obj, found = s.podMetrics(ns + "/" + name)
			}
			if !found {
				status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s.metrics.k8s.io %q not found", res, name))
				return
			}
			obj["kind"], obj["apiVersion"] = kind, gv
			writeJSON(w, 200, obj)
			return
		}
		items := []map[string]interface{}{}
		if res == "nodes" {
			for n := range s.st.nodes {
				if o, ok := s.nodeMetrics(n); ok {
					items = append(items, o)
				}
			}
		} else {
			for k := range s.st.ctrs {
				if ns != "" && !strings.HasPrefix(k, ns+"/") {
					continue
				}
				if o, ok := s.podMetrics(k); ok {
					items = append(items, o)
				}
			}
		}
		sort.Slice(items, func(i, j int) bool {
			a, b := items[i]["metadata"].(map[string]interface{}), items[j]["metadata"].(map[string]interface{})
			return fmt.Sprint(a["namespace"], a["name"]) < fmt.Sprint(b["namespace"], b["name"])
		})
		writeJSON(w, 200, map[string]interface{}{"kind": kind + "List", "apiVersion": gv,
			"metadata": map[string]string{"selfLink": path}, "items": items})
	}
}

func groupDoc() map[string]interface{} {
	v := map[string]string{"groupVersion": gv, "version": "v1beta1"}
	return map[string]interface{}{"name": "metrics.k8s.io", "versions": []interface{}{v}, "preferredVersion": v}
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fatal("%v", err)
	}
	c, err := kube.InCluster()
	if err != nil {
		fatal("%v", err)
	}
	if _, err := c.WaitReachable(30 * time.Second); err != nil {
		fatal("%v", err)
	}
	a, err := loadAuthConfig(c)
	if err != nil {
		fatal("%v", err)
	}
	host, _ := os.Hostname()
	pair, certPEM, keyPEM, err := kube.SelfSigned("localhost@"+strconv.FormatInt(time.Now().Unix(), 10),
		[]string{"localhost", "127.0.0.1", host, "metrics-server", "metrics-server.kube-system.svc"})
	if err != nil {
		fatal("generating the serving certificate: %v", err)
	}
	if err := os.MkdirAll(o.certDir, 0755); err != nil {
		fatal("%v", err)
	}
	if err := os.WriteFile(filepath.Join(o.certDir, "apiserver.crt"), certPEM, 0644); err != nil {
		fatal("writing the serving certificate: %v", err)
	}
	if err := os.WriteFile(filepath.Join(o.certDir, "apiserver.key"), keyPEM, 0600); err != nil {
		fatal("writing the serving key: %v", err)
	}
	s := &scraper{o: o, c: c, st: &store{nodes: map[string]*series{}, ctrs: map[string]map[string]*series{}},
		ready: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: c.CAPool, MinVersion: tls.VersionTLS12}}}}
	go func() {
		// a second sample soon after the first, so that rates exist early
		s.scrapeAll()
		time.Sleep(5 * time.Second)
		for {
			s.scrapeAll()
			time.Sleep(o.resolution)
		}
	}()
	pools := x509.NewCertPool()
	l, err := tls.Listen("tcp", fmt.Sprintf(":%d", o.securePort), &tls.Config{
		Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert, ClientCAs: pools,
	})
	if err != nil {
		fatal("listen :%d: %v", o.securePort, err)
	}
	logf("serving securely on [::]:%d", o.securePort)
	fatal("%v", http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, a) })))
}
