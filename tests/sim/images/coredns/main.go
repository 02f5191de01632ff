// coredns stand-in (kubeup-sim): CoreDNS v1.7.0's observable job for a
// cluster, with the Corefile templates/addons/coredns.yaml gives it.
//
//	coredns -conf FILE
//
// Answers A queries (UDP and TCP, on the server block's port) for
// <svc>.<ns>.svc.<domain> from the API's Services (ClusterIP; a headless
// Service's ready endpoint addresses), <a-b-c-d>.<ns>.pod.<domain> with
// "pods insecure", PTR for Service ClusterIPs, NXDOMAIN (with the zone's
// SOA) for any other name in the domain, and forwards the rest to the
// upstreams of the forward plugin. Serves health (/health), ready (/ready,
// once the Services were listed) and prometheus (/metrics). A Corefile it
// does not understand is refused, the API unreachable at start is fatal.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"kubeup-sim/images/internal/kube"
)

func fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "coredns: "+format+"\n", a...)
	os.Exit(1)
}

func logf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "[INFO] %s\n", fmt.Sprintf(format, a...))
}

// readResolvConf: the nameservers of a resolv.conf, as host:53.
func readResolvConf(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "nameserver" && net.ParseIP(f[1]) != nil {
			out = append(out, net.JoinHostPort(f[1], "53"))
		}
	}
	return out, nil
}

// --- the cluster's names ---

type records struct {
	a   map[string][]net.IP // name (lower case, trailing dot) -> addresses
	ptr map[string]string   // reverse name -> service name
	ns  map[string]bool     // namespaces with a Service
}

type state struct {
	mu      sync.RWMutex
	r       records
	synced  atomic.Bool
	queries atomic.Int64
	nx      atomic.Int64
}

func (s *state) refresh(c *kube.Client, domain string) error {
	var svcs kube.ServiceList
	if err := c.Get("/api/v1/services", &svcs); err != nil {
		return err
	}
	var eps kube.EndpointsList
	if err := c.Get("/api/v1/endpoints", &eps); err != nil {
		return err
	}
	epMap := map[string][]net.IP{}
	for _, e := range eps.Items {
		for _, ss := range e.Subsets {
			for _, a := range ss.Addresses {
				if ip := net.ParseIP(a.IP).To4(); ip != nil {
					k := e.Metadata.Namespace + "/" + e.Metadata.Name
					epMap[k] = append(epMap[k], ip)
				}
			}
		}
	}
	r := records{a: map[string][]net.IP{}, ptr: map[string]string{}, ns: map[string]bool{}}
	for _, sv := range svcs.Items {
		name := strings.ToLower(sv.Metadata.Name + "." + sv.Metadata.Namespace + ".svc." + domain + ".")
		r.ns[sv.Metadata.Namespace] = true
		switch {
		case sv.Spec.ClusterIP == "None":
			r.a[name] = epMap[sv.Metadata.Namespace+"/"+sv.Metadata.Name]
		case sv.Spec.ClusterIP != "":
			if ip := net.ParseIP(sv.Spec.ClusterIP).To4(); ip != nil {
				r.a[name] = []net.IP{ip}
				r.ptr[reverse(ip)] = name
			}
		default:
			r.a[name] = nil // ExternalName and the like: the name exists, no A record
		}
	}
	s.mu.Lock()
	s.r = r
	s.mu.Unlock()
	s.synced.Store(true)
	return nil
}

func reverse(ip net.IP) string {
	v := ip.To4()
	return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", v[3], v[2], v[1], v[0])
}

// --- DNS messages ---

const (
	typeA    = 1
	typeNS   = 2
	typeSOA  = 6
	typePTR  = 12
	typeAAAA = 28
	classIN  = 1

	rcodeOK       = 0
	rcodeFormErr  = 1
	rcodeServFail = 2
	rcodeNX       = 3
	rcodeNotImp   = 4
)

type question struct {
	name        string // lower case, trailing dot
	qtype, qcls uint16
	end         int // offset after the question
}

func readName(msg []byte, off int) (string, int, error) {
	var labels []string
	jumped, end := false, 0
	for hops := 0; hops < 64; hops++ {
		if off >= len(msg) {
			return "", 0, errors.New("name runs past the message")
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if !jumped {
				end = off + 1
			}
			return strings.ToLower(strings.Join(labels, ".")) + ".", end, nil
		case l&0xC0 == 0xC0:
			if off+1 >= len(msg) {
				return "", 0, errors.New("bad pointer")
			}
			if !jumped {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
			jumped = true
		default:
			if off+1+l > len(msg) {
				return "", 0, errors.New("label runs past the message")
			}
			labels = append(labels, string(msg[off+1:off+1+l]))
			off += 1 + l
		}
	}
	return "", 0, errors.New("too many labels")
}

func putName(b []byte, name string) []byte {
	name = strings.TrimSuffix(name, ".")
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

func putRR(b []byte, name string, typ uint16, ttl uint32, rdata []byte) []byte {
	b = putName(b, name)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, classIN)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

type server struct {
	cfg *config
	st  *state
	sem chan struct{}
}

func (s *server) soa(zone string) []byte {
	var rd []byte
	rd = putName(rd, "ns.dns."+zone)
	rd = putName(rd, "hostmaster."+zone)
	rd = binary.BigEndian.AppendUint32(rd, uint32(time.Now().Unix()))
	for _, v := range []uint32{7200, 1800, 86400, s.cfg.ttl} {
		rd = binary.BigEndian.AppendUint32(rd, v)
	}
	return rd
}

// inZone: the zone of cfg.zones that holds name, or "".
func (s *server) inZone(name string) string {
	best := ""
	for _, z := range s.cfg.zones {
		if (name == z || strings.HasSuffix(name, "."+z)) && len(z) > len(best) {
			best = z
		}
	}
	return best
}

func (s *server) fallsThrough(name string) bool {
	for _, z := range s.cfg.fallThrough {
		if z == "." || name == z || strings.HasSuffix(name, "."+z) {
			return true
		}
	}
	return false
}

// answer builds the reply to query (nil: no reply at all).
func (s *server) answer(query []byte) []byte {
	if len(query) < 12 {
		return nil
	}
	id := binary.BigEndian.Uint16(query)
	flags := binary.BigEndian.Uint16(query[2:])
	if flags&0x8000 != 0 {
		return nil // a response, not a query
	}
	reply := func(rcode int, q *question, answers [][]byte, auth [][]byte) []byte {
		b := make([]byte, 12, 512)
		binary.BigEndian.PutUint16(b, id)
		f := uint16(0x8000) | flags&0x0100 | uint16(rcode) // QR, RD copied
		if q != nil && s.inZone(q.name) != "" {
			f |= 0x0400 // AA
		}
		binary.BigEndian.PutUint16(b[2:], f)
		if q != nil {
			binary.BigEndian.PutUint16(b[4:], 1)
			b = append(b, query[12:q.end]...)
		}
		binary.BigEndian.PutUint16(b[6:], uint16(len(answers)))
		binary.BigEndian.PutUint16(b[8:], uint16(len(auth)))
		for _, a := range answers {
			b = append(b, a...)
		}
		for _, a := range auth {
			b = append(b, a...)
		}
		return b
	}
	s.st.queries.Add(1)
	if (flags>>11)&0xF != 0 {
		return reply(rcodeNotImp, nil, nil, nil)
	}
	if binary.BigEndian.Uint16(query[4:]) != 1 {
		return reply(rcodeFormErr, nil, nil, nil)
	}
	name, end, err := readName(query, 12)
	if err != nil || end+4 > len(query) {
		return reply(rcodeFormErr, nil, nil, nil)
	}
	q := &question{name: name, qtype: binary.BigEndian.Uint16(query[end:]), qcls: binary.BigEndian.Uint16(query[end+2:]), end: end + 4}
	zone := s.inZone(q.name)
	if zone == "" {
		return s.forward(query, q, reply)
	}
	s.st.mu.RLock()
	r := s.st.r
	s.st.mu.RUnlock()
	var ips []net.IP
	exists := false
	switch {
	case strings.HasSuffix(zone, ".arpa."):
		if target, ok := r.ptr[q.name]; ok {
			if q.qtype == typePTR {
				return reply(rcodeOK, q, [][]byte{putRR(nil, q.name, typePTR, s.cfg.ttl, putName(nil, target))}, nil)
			}
			return reply(rcodeOK, q, nil, [][]byte{putRR(nil, zone, typeSOA, s.cfg.ttl, s.soa(zone))})
		}
		if s.fallsThrough(q.name) {
			return s.forward(query, q, reply)
		}
	default:
		rest := strings.TrimSuffix(q.name, zone)
		if rest == "" || rest == "dns-version." {
			exists = true
		} else if ip, ok := r.a[q.name]; ok {
			ips, exists = ip, true
		} else if s.cfg.podsMode == "insecure" && strings.HasSuffix(rest, ".pod.") {
			parts := strings.Split(strings.TrimSuffix(rest, ".pod."), ".")
			if len(parts) == 2 {
				if ip := net.ParseIP(strings.ReplaceAll(parts[0], "-", ".")).To4(); ip != nil {
					ips, exists = []net.IP{ip}, true
				}
			}
		} else if rest == "svc." || rest == "pod." {
			exists = true
		} else if strings.HasSuffix(rest, ".svc.") && r.ns[strings.TrimSuffix(rest, ".svc.")] {
			exists = true
		}
	}
	if !exists {
		s.st.nx.Add(1)
		return reply(rcodeNX, q, nil, [][]byte{putRR(nil, zone, typeSOA, s.cfg.ttl, s.soa(zone))})
	}
	if q.qtype == typeA && len(ips) > 0 {
		var ans [][]byte
		for _, ip := range ips {
			ans = append(ans, putRR(nil, q.name, typeA, s.cfg.ttl, ip.To4()))
		}
		return reply(rcodeOK, q, ans, nil)
	}
	if q.qtype == typeSOA && q.name == zone {
		return reply(rcodeOK, q, [][]byte{putRR(nil, zone, typeSOA, s.cfg.ttl, s.soa(zone))}, nil)
	}
	return reply(rcodeOK, q, nil, [][]byte{putRR(nil, zone, typeSOA, s.cfg.ttl, s.soa(zone))})
}

func (s *server) forward(query []byte, q *question, reply func(int, *question, [][]byte, [][]byte) []byte) []byte {
	if len(s.cfg.upstreams) == 0 {
		return reply(rcodeServFail, q, nil, nil)
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		return reply(rcodeServFail, q, nil, nil) // max_concurrent reached
	}
	for _, up := range s.cfg.upstreams {
		c, err := net.DialTimeout("udp", up, 2*time.Second)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(query); err == nil {
			buf := make([]byte, 65535)
			if n, err := c.Read(buf); err == nil && n >= 12 {
				c.Close()
				return buf[:n]
			}
		}
		c.Close()
	}
	if s.cfg.errors {
		fmt.Fprintf(os.Stderr, "[ERROR] plugin/errors: 2 %s %d: no upstream answered\n", q.name, q.qtype)
	}
	return reply(rcodeServFail, q, nil, nil)
}

func (s *server) serveUDP(pc net.PacketConn) {
	buf := make([]byte, 65535)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		q := append([]byte(nil), buf[:n]...)
		go func() {
			if r := s.answer(q); r != nil {
				if len(r) > 512 {
					r = r[:12] // too big for UDP: empty and truncated
					binary.BigEndian.PutUint16(r[2:], binary.BigEndian.Uint16(r[2:])|0x0200)
					for i := 4; i < 12; i++ {
						r[i] = 0
					}
				}
				pc.WriteTo(r, addr)
			}
		}()
	}
}

func (s *server) serveTCP(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go func() {
			defer c.Close()
			for {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				var hdr [2]byte
				if _, err := io.ReadFull(c, hdr[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(hdr[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				r := s.answer(q)
				if r == nil {
					return
				}
				out := binary.BigEndian.AppendUint16(nil, uint16(len(r)))
				if _, err := c.Write(append(out, r...)); err != nil {
					return
				}
			}
		}()
	}
}

func listenHTTP(addr string, h http.Handler) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fatal("listen %s: %v", addr, err)
	}
	go http.Serve(l, h)
}

func main() {
	fs := flag.NewFlagSet("coredns", flag.ContinueOnError)
	conf := fs.String("conf", "", "Corefile to load")
	version := fs.Bool("version", false, "show the version")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *version {
		fmt.Println("CoreDNS-1.7.0 (kubeup-sim stand-in)\nlinux/amd64, go1.19")
		return
	}
	if fs.NArg() > 0 {
		fatal("unexpected arguments %q", fs.Args())
	}
	if *conf == "" {
		fatal("-conf is needed: this stand-in runs only from a Corefile (templates/addons/coredns.yaml gives -conf /etc/coredns/Corefile)")
	}
	src, err := os.ReadFile(*conf)
	if err != nil {
		fatal("%v", err)
	}
	cfg, err := parseCorefile(string(src), readResolvConf)
	if err != nil {
		fatal("%s: %v", *conf, err)
	}
	st := &state{}
	sv := &server{cfg: cfg, st: st, sem: make(chan struct{}, max(cfg.maxConc, 1000))}

	c, err := kube.InCluster()
	if err != nil {
		fatal("plugin/kubernetes: %v", err)
	}
	domain := strings.TrimSuffix(cfg.domain, ".")
	// the API must answer before we serve, or we exit (the kubelet restarts us)
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = st.refresh(c, domain)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			fatal("plugin/kubernetes: cannot list Services and Endpoints from %s: %v", c.Base, err)
		}
		time.Sleep(time.Second)
	}

	pc, err := net.ListenPacket("udp", fmt.Sprintf(":%d", cfg.port))
	if err != nil {
		fatal("listen udp :%d: %v", cfg.port, err)
	}
	tl, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.port))
	if err != nil {
		fatal("listen tcp :%d: %v", cfg.port, err)
	}
	go sv.serveUDP(pc)
	go sv.serveTCP(tl)
	shutting := atomic.Bool{}
	if cfg.healthAddr != "" {
		listenHTTP(cfg.healthAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, "OK")
		}))
	}
	if cfg.readyAddr != "" {
		listenHTTP(cfg.readyAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/ready" {
				http.NotFound(w, r)
				return
			}
			if !st.synced.Load() || shutting.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "kubernetes\n")
				return
			}
			io.WriteString(w, "OK")
		}))
	}
	if cfg.metricsAddr != "" {
		listenHTTP(cfg.metricsAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, "# TYPE coredns_dns_requests_total counter\ncoredns_dns_requests_total{server=\"dns://:%d\",zone=\".\"} %d\n", cfg.port, st.queries.Load())
			fmt.Fprintf(w, "# TYPE coredns_dns_responses_nxdomain_total counter\ncoredns_dns_responses_nxdomain_total %d\n", st.nx.Load())
			io.WriteString(w, "# TYPE coredns_build_info gauge\ncoredns_build_info{version=\"1.7.0\"} 1\n")
		}))
	}
	fmt.Printf(".:%d\nCoreDNS-1.7.0 (kubeup-sim stand-in)\nlinux/amd64, go1.19\n", cfg.port)

	// keep the Services current; losing the API for long is fatal
	go func() {
		lastOK := time.Now()
		for range time.Tick(2 * time.Second) {
			if err := st.refresh(c, domain); err != nil {
				if time.Since(lastOK) > 60*time.Second {
					fatal("plugin/kubernetes: lost the API server for more than 60s: %v", err)
				}
				fmt.Fprintf(os.Stderr, "[ERROR] plugin/kubernetes: %v\n", err)
				continue
			}
			lastOK = time.Now()
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	shutting.Store(true)
	if cfg.lameduck > 0 {
		logf("lameduck mode for %s", cfg.lameduck)
		time.Sleep(cfg.lameduck)
	}
	os.Exit(0)
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
