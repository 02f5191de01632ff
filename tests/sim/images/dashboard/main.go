// Kubernetes Dashboard stand-in (kubeup-sim, for kubernetesui/dashboard
// v2.1.0): the image's entrypoint is
//
//	/dashboard --insecure-bind-address=0.0.0.0 --bind-address=0.0.0.0
//
// and templates/addons/dashboard.yaml adds --auto-generate-certificates
// --namespace=kubernetes-dashboard. As the real dashboard does, it checks
// the API server (in-cluster configuration) and exits when it cannot reach
// it, fills its CSRF and key-holder Secrets in its namespace when they are
// empty, generates its serving certificate, and serves HTTPS on 8443 (the
// probe's GET /) and plain HTTP on 9090. It draws no pages.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"kubeup-sim/images/internal/kube"
)

func fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "dashboard: "+format+"\n", a...)
	os.Exit(1)
}

type secret struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   kube.ObjectMeta   `json:"metadata"`
	Type       string            `json:"type,omitempty"`
	Data       map[string]string `json:"data"`
}

func main() {
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	insecureBind := fs.String("insecure-bind-address", "127.0.0.1", "")
	bind := fs.String("bind-address", "0.0.0.0", "")
	autoCerts := fs.Bool("auto-generate-certificates", false, "")
	ns := fs.String("namespace", "kube-system", "")
	port := fs.Int("port", 8443, "")
	insecurePort := fs.Int("insecure-port", 9090, "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fatal("unexpected arguments %q", fs.Args())
	}
	for _, a := range []string{*insecureBind, *bind} {
		if net.ParseIP(a) == nil {
			fatal("bad bind address %q", a)
		}
	}
	if !*autoCerts {
		fatal("no certificates: this stand-in serves HTTPS only with --auto-generate-certificates (as the template gives it)")
	}
	c, err := kube.InCluster()
	if err != nil {
		fatal("Error while initializing connection to Kubernetes apiserver: %v", err)
	}
	v, err := c.WaitReachable(30 * time.Second)
	if err != nil {
		fatal("Error while initializing connection to Kubernetes apiserver. This most likely means that the cluster is misconfigured: %v", err)
	}
	fmt.Fprintf(os.Stderr, "Successful initial request to the apiserver, version: %s\n", v)

	// the CSRF key and the token encryption keys live in Secrets of the
	// dashboard's namespace; empty ones are filled, as the dashboard does
	fill := func(name string, gen func() map[string]string) {
		var s secret
		path := "/api/v1/namespaces/" + *ns + "/secrets/" + name
		if err := c.Get(path, &s); err != nil {
			fatal("reading Secret %s/%s: %v", *ns, name, err)
		}
		if len(s.Data) > 0 {
			fmt.Fprintf(os.Stderr, "Secret %s/%s holds its keys already\n", *ns, name)
			return
		}
		s.Data = map[string]string{}
		for k, v := range gen() {
			s.Data[k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
		if err := c.Do("PUT", path, s, "", nil); err != nil {
			fatal("updating Secret %s/%s: %v", *ns, name, err)
		}
		fmt.Fprintf(os.Stderr, "Secret %s/%s filled\n", *ns, name)
	}
	fill("kubernetes-dashboard-csrf", func() map[string]string {
		b := make([]byte, 256)
		rand.Read(b)
		return map[string]string{"csrf": base64.StdEncoding.EncodeToString(b)}
	})
	fill("kubernetes-dashboard-key-holder", func() map[string]string {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			fatal("generating the key holder's key: %v", err)
		}
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		return map[string]string{
			"priv": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
			"pub":  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pub})),
		}
	})

	host, _ := os.Hostname()
	pair, _, _, err := kube.SelfSigned("kubernetes-dashboard", []string{"kubernetes-dashboard", "kubernetes-dashboard." + *ns + ".svc", host})
	if err != nil {
		fatal("generating the serving certificate: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><head><title>Kubernetes Dashboard</title></head><body>Kubernetes Dashboard v2.1.0 (kubeup-sim stand-in)</body></html>\n")
	})
	mux.HandleFunc("/api/v1/csrftoken/", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 16)
		rand.Read(b)
		fmt.Fprintf(w, "{\"token\":%q}\n", base64.RawURLEncoding.EncodeToString(b))
	})
	mux.HandleFunc("/api/v1/login/status", func(w http.ResponseWriter, r *http.Request) {
		auth := strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
		fmt.Fprintf(w, "{\"tokenPresent\":%v,\"headerPresent\":%v,\"httpsMode\":true,\"impersonationPresent\":false}\n", auth, auth)
	})
	tl, err := tls.Listen("tcp", net.JoinHostPort(*bind, fmt.Sprint(*port)), &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		fatal("listen %s:%d: %v", *bind, *port, err)
	}
	il, err := net.Listen("tcp", net.JoinHostPort(*insecureBind, fmt.Sprint(*insecurePort)))
	if err != nil {
		fatal("listen %s:%d: %v", *insecureBind, *insecurePort, err)
	}
	fmt.Fprintf(os.Stderr, "Serving securely on HTTPS port: %d\nServing insecurely on HTTP port: %d\n", *port, *insecurePort)
	go func() { fatal("%v", http.Serve(il, mux)) }()
	fatal("%v", http.Serve(tl, mux))
}
