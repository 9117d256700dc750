package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ErrRemote is wrapped by Listen's error for an address that is not
// loopback when remote access was not allowed.
var ErrRemote = errors.New("non-loopback listen address")

// ErrAddress is wrapped by Listen's error for an address that is not
// host:port.
var ErrAddress = errors.New("bad listen address")

// Listen opens a TCP listener on addr ("127.0.0.1:8765", "localhost:0",
// "[::1]:8765"). A host that is not loopback (including an empty host,
// which means every interface) is refused with an error wrapping ErrRemote
// unless allowRemote is set; hint, when not empty, ends that error and
// says how to allow it ("serving beyond this machine needs --allow-remote").
// "localhost" binds 127.0.0.1 itself, not whatever the name resolves to.
func Listen(addr string, allowRemote bool, hint string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w %q: want host:port, e.g. 127.0.0.1:8765", ErrAddress, addr)
	}
	if !IsLoopback(host) {
		if !allowRemote {
			if hint != "" {
				hint = ": " + hint
			}
			return nil, fmt.Errorf("listen address %q: %w%s", addr, ErrRemote, hint)
		}
	} else if strings.EqualFold(host, "localhost") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// IsLoopback reports whether host (without port, brackets allowed) names
// the loopback interface: localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// HostAllowed reports whether a request's Host header (host:port) names
// the loopback interface and port.
func HostAllowed(hostport, port string) bool {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return false // a loopback client always names the port it dialled
	}
	return p == port && IsLoopback(host)
}

// OriginAllowed reports whether an Origin header may reach a server that
// was asked for with Host host: a loopback http(s) origin, or, with
// allowRemote, the Host itself.
func OriginAllowed(origin, host string, allowRemote bool) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if IsLoopback(u.Hostname()) {
		return true
	}
	return allowRemote && strings.EqualFold(u.Host, host)
}

// Guard answers 403 Forbidden to a request whose Host is not the loopback
// interface with port (unless allowRemote), or whose Origin header is
// present and not allowed (OriginAllowed), and hands every other request
// to next.
func Guard(next http.Handler, port string, allowRemote bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowRemote && !HostAllowed(r.Host, port) {
			http.Error(w, "forbidden: Host must be localhost, 127.0.0.1 or [::1] with the server's port", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !OriginAllowed(origin, r.Host, allowRemote) {
			http.Error(w, "forbidden: cross-origin request", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Port returns the port ln listens on, for Guard.
func Port(ln net.Listener) (string, error) {
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return "", fmt.Errorf("listen address: %w", err)
	}
	return port, nil
}
