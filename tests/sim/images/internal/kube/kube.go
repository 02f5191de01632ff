// Package kube is the small part of a Kubernetes client the image
// stand-ins need: the in-cluster configuration a pod gets from the kubelet
// (KUBERNETES_SERVICE_HOST/PORT, the service account's token and CA), and
// JSON requests to the API server over verified TLS. Standard library only.
package kube

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// ServiceAccountDir is where the kubelet mounts the pod's service account.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Client talks to one API server as the pod's service account.
type Client struct {
	Base      string // https://host:port
	Namespace string // the pod's namespace, from the service account mount
	token     string
	CAPool    *x509.CertPool
	http      *http.Client
}

// InCluster builds a client exactly as client-go's rest.InClusterConfig
// does, and fails with the same kind of message when a piece is missing.
func InCluster() (*Client, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined")
	}
	token, err := os.ReadFile(ServiceAccountDir + "/token")
	if err != nil {
		return nil, fmt.Errorf("in-cluster configuration: %v", err)
	}
	caPEM, err := os.ReadFile(ServiceAccountDir + "/ca.crt")
	if err != nil {
		return nil, fmt.Errorf("in-cluster configuration: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("in-cluster configuration: no certificate in %s/ca.crt", ServiceAccountDir)
	}
	ns, _ := os.ReadFile(ServiceAccountDir + "/namespace")
	c := &Client{
		Base:      "https://" + net.JoinHostPort(host, port),
		Namespace: strings.TrimSpace(string(ns)),
		token:     strings.TrimSpace(string(token)),
		CAPool:    pool,
	}
	c.http = &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 4,
		},
	}
	return c, nil
}

// Token is the service account's bearer token (for the kubelets).
func (c *Client) Token() string { return c.token }

// StatusError is a non-2xx answer of the API server.
type StatusError struct {
	Method, URL string
	Code        int
	Body        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Code, e.Body)
}

// IsNotFound: the API answered 404.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// Do sends one request; body (if not nil) is sent as JSON with the given
// content type; a 2xx answer is decoded into out (if not nil).
func (c *Client) Do(method, path string, body interface{}, contentType string, out interface{}) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	url := c.Base + path
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kubeup-sim-standin")
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %v", method, url, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return &StatusError{method, url, resp.StatusCode, msg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %v", method, url, err)
		}
	}
	return nil
}

// Get is Do("GET", …).
func (c *Client) Get(path string, out interface{}) error { return c.Do("GET", path, nil, "", out) }

// WaitReachable asks for /version until it answers or the time is up, and
// returns the server's git version.
func (c *Client) WaitReachable(limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	for {
		err := c.Get("/version", &v)
		if err == nil {
			return v.GitVersion, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the API server did not answer within %s: %v", limit, err)
		}
		time.Sleep(time.Second)
	}
}

// --- the few API objects the stand-ins read ---

type ObjectMeta struct {
	Name            string            `json:"name"`
	Namespace       string            `json:"namespace,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
}

type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

type Node struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		PodCIDR  string   `json:"podCIDR"`
		PodCIDRs []string `json:"podCIDRs"`
	} `json:"spec"`
	Status struct {
		Addresses       []NodeAddress `json:"addresses"`
		DaemonEndpoints struct {
			KubeletEndpoint struct {
				Port int `json:"Port"`
			} `json:"kubeletEndpoint"`
		} `json:"daemonEndpoints"`
		Capacity    map[string]string `json:"capacity"`
		Allocatable map[string]string `json:"allocatable"`
	} `json:"status"`
}

// Address is the node's first address of the type, or "".
func (n *Node) Address(typ string) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return ""
}

type NodeList struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []Node `json:"items"`
}

type Service struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		Type         string   `json:"type"`
		ClusterIP    string   `json:"clusterIP"`
		ClusterIPs   []string `json:"clusterIPs"`
		ExternalName string   `json:"externalName"`
	} `json:"spec"`
}

type ServiceList struct {
	Items []Service `json:"items"`
}

type Endpoints struct {
	Metadata ObjectMeta `json:"metadata"`
	Subsets  []struct {
		Addresses []struct {
			IP       string `json:"ip"`
			Hostname string `json:"hostname"`
		} `json:"addresses"`
	} `json:"subsets"`
}

type EndpointsList struct {
	Items []Endpoints `json:"items"`
}

type Pod struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
}
