// Dashboard metrics scraper stand-in (kubeup-sim, for
// kubernetesui/metrics-scraper v1.0.6, entrypoint /metrics-sidecar). With
// the in-cluster configuration it reads the metrics API
// (/apis/metrics.k8s.io/v1beta1/nodes and pods) every --metric-resolution,
// keeps --metric-duration of samples in --db-file (JSON here, SQLite in the
// real one; on the pod's /tmp emptyDir, the root file system being
// read-only) and serves them on :8000 for the dashboard. The API
// unreachable at start is fatal; the metrics API missing is logged, as the
// real scraper does.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"kubeup-sim/images/internal/kube"
)

func fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "metrics-sidecar: "+format+"\n", a...)
	os.Exit(1)
}

type sample struct {
	Time time.Time         `json:"time"`
	Kind string            `json:"kind"` // node or pod
	Name string            `json:"name"` // node name or ns/pod
	Use  map[string]string `json:"usage"`
}

func main() {
	fs := flag.NewFlagSet("metrics-sidecar", flag.ContinueOnError)
	res := fs.Duration("metric-resolution", time.Minute, "")
	dur := fs.Duration("metric-duration", 15*time.Minute, "")
	db := fs.String("db-file", "/tmp/metrics.db", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fatal("unexpected arguments %q", fs.Args())
	}
	if *res < time.Second || *dur < *res {
		fatal("--metric-resolution must be ≥ 1s and ≤ --metric-duration")
	}
	c, err := kube.InCluster()
	if err != nil {
		fatal("%v", err)
	}
	if _, err := c.WaitReachable(30 * time.Second); err != nil {
		fatal("%v", err)
	}
	f, err := os.OpenFile(*db, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0600)
	if err != nil {
		fatal("opening the database %s: %v", *db, err)
	}
	f.Close()

	var mu sync.Mutex
	var samples []sample
	scrape := func() {
		now := time.Now()
		var nodes struct {
			Items []struct {
				Metadata kube.ObjectMeta   `json:"metadata"`
				Usage    map[string]string `json:"usage"`
			} `json:"items"`
		}
		var pods struct {
			Items []struct {
				Metadata   kube.ObjectMeta `json:"metadata"`
				Containers []struct {
					Usage map[string]string `json:"usage"`
				} `json:"containers"`
			} `json:"items"`
		}
		if err := c.Get("/apis/metrics.k8s.io/v1beta1/nodes", &nodes); err != nil {
			fmt.Fprintf(os.Stderr, "Error scraping node metrics: %v\n", err)
			return
		}
		if err := c.Get("/apis/metrics.k8s.io/v1beta1/pods", &pods); err != nil {
			fmt.Fprintf(os.Stderr, "Error scraping pod metrics: %v\n", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, n := range nodes.Items {
			samples = append(samples, sample{now, "node", n.Metadata.Name, n.Usage})
		}
		for _, p := range pods.Items {
			u := map[string]string{}
			for _, ct := range p.Containers {
				for k, v := range ct.Usage {
					u[k] += v + " " // the raw quantities, per container
				}
			}
			samples = append(samples, sample{now, "pod", p.Metadata.Namespace + "/" + p.Metadata.Name, u})
		}
		keep := samples[:0]
		for _, s := range samples {
			if now.Sub(s.Time) <= *dur {
				keep = append(keep, s)
			}
		}
		samples = keep
		b, _ := json.Marshal(samples)
		if err := os.WriteFile(*db, b, 0600); err != nil {
			fatal("writing the database %s: %v", *db, err)
		}
	}
	go func() {
		for {
			scrape()
			time.Sleep(*res)
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "URL: /\n")
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	// /api/v1/dashboard/nodes/NAME/metrics/... and
	// /api/v1/dashboard/namespaces/NS/pod-list/NAME/metrics/...: the samples
	mux.HandleFunc("/api/v1/dashboard/", func(w http.ResponseWriter, r *http.Request) {
		p := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v1/dashboard/"), "/"), "/")
		kind, name := "", ""
		switch {
		case len(p) >= 2 && p[0] == "nodes":
			kind, name = "node", p[1]
		case len(p) >= 4 && p[0] == "namespaces" && p[2] == "pod-list":
			kind, name = "pod", p[1]+"/"+p[3]
		default:
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		var out []sample
		for _, s := range samples {
			if s.Kind == kind && s.Name == name {
				out = append(out, s)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	fmt.Fprintln(os.Stderr, "Kubernetes host: "+c.Base)
	fatal("%v", http.ListenAndServe(":8000", mux))
}
