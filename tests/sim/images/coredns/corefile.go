package main

// The Corefile: CoreDNS's grammar (server blocks "KEY[:PORT] { … }",
// directives with arguments and optional blocks), and only the plugins and
// settings this stand-in implements or knowingly accepts. Anything else is
// refused with the line it is on, as CoreDNS refuses an unknown directive.

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
)

type token struct {
	text string
	line int
}

func tokenize(src string) ([]token, error) {
	var toks []token
	line := 1
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			toks = append(toks, token{"\n", line})
			line++
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '{' || c == '}':
			toks = append(toks, token{string(c), line})
			i++
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\n' {
					return nil, fmt.Errorf("line %d: unterminated quoted string", line)
				}
				j++
			}
			if j >= len(src) {
				return nil, fmt.Errorf("line %d: unterminated quoted string", line)
			}
			toks = append(toks, token{src[i+1 : j], line})
			i = j + 1
		case unicode.IsSpace(rune(c)):
			i++
		default:
			j := i
			for j < len(src) && !unicode.IsSpace(rune(src[j])) && src[j] != '{' && src[j] != '}' && src[j] != '#' {
				j++
			}
			toks = append(toks, token{src[i:j], line})
			i = j
		}
	}
	return toks, nil
}

// directive: a name, its arguments, and its block's directives.
type directive struct {
	name     string
	args     []string
	line     int
	block    []*directive
	hasBlock bool
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) skipNL() {
	for p.pos < len(p.toks) && p.toks[p.pos].text == "\n" {
		p.pos++
	}
}

// parseBlock reads directives up to the closing brace.
func (p *parser) parseBlock(open int) ([]*directive, error) {
	var out []*directive
	for {
		p.skipNL()
		if p.pos >= len(p.toks) {
			return nil, fmt.Errorf("line %d: '{' without a matching '}'", open)
		}
		t := p.toks[p.pos]
		if t.text == "}" {
			p.pos++
			return out, nil
		}
		if t.text == "{" {
			return nil, fmt.Errorf("line %d: unexpected '{'", t.line)
		}
		d := &directive{name: t.text, line: t.line}
		p.pos++
		for p.pos < len(p.toks) {
			t = p.toks[p.pos]
			if t.text == "\n" || t.text == "}" {
				break
			}
			if t.text == "{" {
				p.pos++
				b, err := p.parseBlock(t.line)
				if err != nil {
					return nil, err
				}
				d.block, d.hasBlock = b, true
				break
			}
			d.args = append(d.args, t.text)
			p.pos++
		}
		out = append(out, d)
	}
}

// config: what the stand-in serves.
type config struct {
	port        int
	healthAddr  string
	lameduck    time.Duration
	readyAddr   string
	zones       []string // the kubernetes plugin's zones, with a trailing dot
	domain      string   // the first zone (the cluster domain), trailing dot
	podsMode    string
	fallThrough []string
	ttl         uint32
	metricsAddr string
	forwardFrom string
	upstreams   []string // host:port
	maxConc     int
	cacheTTL    int
	errors, log bool
}

func parseCorefile(src string, resolvConf func(string) ([]string, error)) (*config, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	p.skipNL()
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("the Corefile is empty")
	}
	key := p.toks[p.pos]
	p.pos++
	if key.text == "{" || key.text == "}" {
		return nil, fmt.Errorf("line %d: a server block must start with its zone (e.g. .:53)", key.line)
	}
	p.skipNL()
	if p.pos >= len(p.toks) || p.toks[p.pos].text != "{" {
		return nil, fmt.Errorf("line %d: '{' expected after %q", key.line, key.text)
	}
	p.pos++
	body, err := p.parseBlock(key.line)
	if err != nil {
		return nil, err
	}
	p.skipNL()
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("line %d: a second server block is not simulated", p.toks[p.pos].line)
	}
	c := &config{port: 53, ttl: 5, podsMode: "disabled", maxConc: 0}
	zone, port := key.text, ""
	if strings.HasPrefix(zone, "dns://") {
		zone = zone[len("dns://"):]
	}
	if i := strings.LastIndex(zone, ":"); i >= 0 {
		zone, port = zone[:i], zone[i+1:]
	}
	if zone != "." {
		return nil, fmt.Errorf("line %d: server block for zone %q: only the root zone \".\" is simulated", key.line, zone)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("line %d: bad port %q", key.line, port)
		}
		c.port = n
	}
	seen := map[string]bool{}
	for _, d := range body {
		if seen[d.name] {
			return nil, fmt.Errorf("line %d: plugin %q given twice", d.line, d.name)
		}
		seen[d.name] = true
		if err := c.directive(d, resolvConf); err != nil {
			return nil, fmt.Errorf("line %d: %s: %v", d.line, d.name, err)
		}
	}
	if !seen["kubernetes"] {
		return nil, fmt.Errorf("no kubernetes plugin: this stand-in only answers for the cluster")
	}
	return c, nil
}

func noBlock(d *directive) error {
	if d.hasBlock {
		return fmt.Errorf("takes no block")
	}
	return nil
}

func addrArg(a string) (string, error) {
	if a == "" {
		return "", fmt.Errorf("empty address")
	}
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", fmt.Errorf("address %q: %v", a, err)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("address %q: bad port", a)
	}
	return net.JoinHostPort(h, p), nil
}

func (c *config) directive(d *directive, resolvConf func(string) ([]string, error)) error {
	switch d.name {
	case "errors", "loop", "loadbalance", "log":
		if len(d.args) > 0 {
			if d.name == "loadbalance" && len(d.args) == 1 && d.args[0] == "round_robin" {
				return noBlock(d)
			}
			return fmt.Errorf("takes no arguments here, got %q", d.args)
		}
		c.errors = c.errors || d.name == "errors"
		c.log = c.log || d.name == "log"
		return noBlock(d)
	case "reload":
		for _, a := range d.args {
			if _, err := time.ParseDuration(a); err != nil {
				return fmt.Errorf("bad interval %q", a)
			}
		}
		if len(d.args) > 2 {
			return fmt.Errorf("at most two durations")
		}
		return noBlock(d)
	case "health":
		c.healthAddr = ":8080"
		if len(d.args) > 1 {
			return fmt.Errorf("at most one address")
		}
		if len(d.args) == 1 {
			a, err := addrArg(d.args[0])
			if err != nil {
				return err
			}
			c.healthAddr = a
		}
		for _, s := range d.block {
			if s.name != "lameduck" || len(s.args) != 1 || s.hasBlock {
				return fmt.Errorf("unknown setting %q %q", s.name, s.args)
			}
			l, err := time.ParseDuration(s.args[0])
			if err != nil || l < 0 {
				return fmt.Errorf("lameduck: bad duration %q", s.args[0])
			}
			c.lameduck = l
		}
		return nil
	case "ready":
		c.readyAddr = ":8181"
		if len(d.args) > 1 {
			return fmt.Errorf("at most one address")
		}
		if len(d.args) == 1 {
			a, err := addrArg(d.args[0])
			if err != nil {
				return err
			}
			c.readyAddr = a
		}
		return noBlock(d)
	case "prometheus":
		c.metricsAddr = "localhost:9153"
		if len(d.args) > 1 {
			return fmt.Errorf("at most one address")
		}
		if len(d.args) == 1 {
			a, err := addrArg(d.args[0])
			if err != nil {
				return err
			}
			c.metricsAddr = a
		}
		return noBlock(d)
	case "cache":
		c.cacheTTL = 3600
		if len(d.args) > 1 {
			return fmt.Errorf("only a TTL is simulated, got %q", d.args)
		}
		if len(d.args) == 1 {
			n, err := strconv.Atoi(d.args[0])
			if err != nil || n < 0 {
				return fmt.Errorf("bad TTL %q", d.args[0])
			}
			c.cacheTTL = n
		}
		if d.hasBlock {
			return fmt.Errorf("cache settings are not simulated")
		}
		return nil
	case "kubernetes":
		if len(d.args) == 0 {
			return fmt.Errorf("needs the cluster domain")
		}
		for _, z := range d.args {
			if !validName(z) {
				return fmt.Errorf("bad zone %q", z)
			}
			c.zones = append(c.zones, canon(z))
		}
		c.domain = c.zones[0]
		if strings.HasSuffix(c.domain, ".arpa.") {
			return fmt.Errorf("the first zone must be the cluster domain, not %q", d.args[0])
		}
		for _, s := range d.block {
			switch s.name {
			case "pods":
				if len(s.args) != 1 || (s.args[0] != "insecure" && s.args[0] != "disabled" && s.args[0] != "verified") {
					return fmt.Errorf("pods: disabled, insecure or verified, got %q", s.args)
				}
				if s.args[0] == "verified" {
					return fmt.Errorf("pods verified is not simulated")
				}
				c.podsMode = s.args[0]
			case "fallthrough":
				for _, z := range s.args {
					if !validName(z) {
						return fmt.Errorf("fallthrough: bad zone %q", z)
					}
					c.fallThrough = append(c.fallThrough, canon(z))
				}
				if len(s.args) == 0 {
					c.fallThrough = []string{"."}
				}
			case "ttl":
				if len(s.args) != 1 {
					return fmt.Errorf("ttl takes one number")
				}
				n, err := strconv.Atoi(s.args[0])
				if err != nil || n < 0 || n > 3600 {
					return fmt.Errorf("ttl must be 0..3600, got %q", s.args[0])
				}
				c.ttl = uint32(n)
			default:
				return fmt.Errorf("setting %q is not simulated", s.name)
			}
			if s.hasBlock {
				return fmt.Errorf("%s takes no block", s.name)
			}
		}
		return nil
	case "forward":
		if len(d.args) < 2 {
			return fmt.Errorf("needs FROM and at least one TO")
		}
		if d.args[0] != "." {
			return fmt.Errorf("only forwarding \".\" is simulated, got %q", d.args[0])
		}
		c.forwardFrom = "."
		for _, to := range d.args[1:] {
			if strings.HasPrefix(to, "/") {
				ns, err := resolvConf(to)
				if err != nil {
					return err
				}
				if len(ns) == 0 {
					return fmt.Errorf("no nameservers found in %s", to)
				}
				c.upstreams = append(c.upstreams, ns...)
				continue
			}
			h := strings.TrimPrefix(to, "dns://")
			if net.ParseIP(h) != nil {
				h = net.JoinHostPort(h, "53")
			}
			if _, _, err := net.SplitHostPort(h); err != nil {
				return fmt.Errorf("bad upstream %q", to)
			}
			c.upstreams = append(c.upstreams, h)
		}
		for _, s := range d.block {
			if s.name != "max_concurrent" || len(s.args) != 1 {
				return fmt.Errorf("setting %q is not simulated", s.name)
			}
			n, err := strconv.Atoi(s.args[0])
			if err != nil || n < 1 {
				return fmt.Errorf("max_concurrent: bad number %q", s.args[0])
			}
			c.maxConc = n
		}
		return nil
	}
	return fmt.Errorf("unknown directive (not simulated by this stand-in)")
}

func validName(z string) bool {
	z = strings.TrimSuffix(z, ".")
	if z == "" || len(z) > 253 {
		return false
	}
	for _, l := range strings.Split(z, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func canon(z string) string {
	z = strings.ToLower(z)
	if !strings.HasSuffix(z, ".") {
		z += "."
	}
	return z
}
