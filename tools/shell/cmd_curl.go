package shell

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// curl over the world's network: names resolve through /etc/hosts (there
// is no DNS beyond it, so outside names fail to resolve, as wget's do), a
// port answers only where a service listens on it (the same sockets ss
// lists), and Prometheus's node exporter answers with the host's metrics.

// lookupHost is the host a name or address stands for from s: localhost,
// the host itself, a host of the network, or nil.
func (s *session) lookupHost(target string) *host {
	switch target {
	case "localhost", "127.0.0.1", "::1", s.h.name:
		return s.h
	}
	if h := s.net.byName[target]; h != nil {
		return h
	}
	if short, _, ok := strings.Cut(target, "."); ok && s.net.byName[short] != nil && s.net.byName[short].ipAddr() != "" {
		return s.net.byName[short] // ops-01.example.local, as /etc/hosts lists it
	}
	for _, o := range s.net.hosts {
		if o.ipAddr() == target {
			return o
		}
	}
	return nil
}

// reaches reports whether s's host has a route to h.
func (s *session) reaches(h *host) bool {
	if h == s.h {
		return true
	}
	for _, r := range s.h.reach {
		if r == h.name {
			return true
		}
	}
	return false
}

func cmdCurl(c *call) int {
	var url, output string
	silent, showErr, head, remoteName, fail := false, false, false, false, false
	valued := map[string]bool{"-H": true, "-d": true, "-X": true, "-u": true, "--data": true, "--data-raw": true, "--data-binary": true,
		"--header": true, "-F": true, "--form": true, "-T": true, "--upload-file": true, "-A": true, "--user-agent": true, "-e": true,
		"-m": true, "--max-time": true, "--connect-timeout": true, "-w": true, "--write-out": true, "--retry": true, "-x": true, "--proxy": true,
		"-b": true, "-c": true, "--request": true, "--user": true, "--cacert": true, "-E": true, "--cert": true, "--resolve": true}
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-o" || a == "--output":
			if i+1 < len(c.args) {
				i++
				output = c.args[i]
			}
		case valued[a]:
			i++
		case strings.HasPrefix(a, "--"):
			switch a {
			case "--silent":
				silent = true
			case "--show-error":
				showErr = true
			case "--head":
				head = true
			case "--remote-name":
				remoteName = true
			case "--fail":
				fail = true
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, r := range a[1:] {
				switch r {
				case 's':
					silent = true
				case 'S':
					showErr = true
				case 'I':
					head = true
				case 'O':
					remoteName = true
				case 'f':
					fail = true
				}
			}
		default:
			url = a
		}
	}
	if url == "" {
		c.err.WriteString("curl: try 'curl --help' or 'curl --manual' for more information\n")
		return 2
	}
	complain := func(code int, format string, a ...any) int {
		if !silent || showErr {
			c.err.printf("curl: (%d) %s\n", code, fmt.Sprintf(format, a...))
		}
		return code
	}
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		scheme, rest = "http", url
	}
	hostPort, urlPath, _ := strings.Cut(rest, "/")
	urlPath = "/" + urlPath
	if at := strings.LastIndexByte(hostPort, '@'); at >= 0 {
		hostPort = hostPort[at+1:]
	}
	hostName, portText, hasPort := strings.Cut(hostPort, ":")
	port := 80
	switch scheme {
	case "https":
		port = 443
	case "http":
	case "ftp":
		port = 21
	default:
		return complain(1, "Protocol \"%s\" not supported or disabled in libcurl", scheme)
	}
	if hasPort {
		p, err := strconv.Atoi(portText)
		if err != nil || p <= 0 || p > 65535 {
			return complain(3, "URL using bad/illegal format or missing URL")
		}
		port = p
	}
	h := c.s.lookupHost(hostName)
	if h == nil {
		return complain(6, "Could not resolve host: %s", hostName)
	}
	if !c.s.reaches(h) {
		c.s.spend(130 * time.Second) // the connect times out
		return complain(28, "Failed to connect to %s port %d after 130000 ms: Couldn't connect to server", hostName, port)
	}
	listening := slices.ContainsFunc(c.s.listeningOn(h), func(sk socket) bool { return sk.port == port })
	if !listening {
		return complain(7, "Failed to connect to %s port %d after 0 ms: Couldn't connect to server", hostName, port)
	}
	if port != 9100 { // the node exporter's port (servicePorts); other services speak no HTTP here
		if port == 22 {
			return complain(1, "Received HTTP/0.9 when not allowed")
		}
		return complain(52, "Empty reply from server")
	}
	status, body := "200 OK", c.s.nodeMetrics(h)
	if urlPath != "/metrics" {
		body = "<html>\n<head><title>Node Exporter</title></head>\n<body>\n<h1>Node Exporter</h1>\n<p><a href=\"/metrics\">Metrics</a></p>\n</body>\n</html>\n"
		if urlPath != "/" {
			status, body = "404 Not Found", "404 page not found\n"
		}
	}
	if fail && strings.HasPrefix(status, "404") {
		return complain(22, "The requested URL returned error: 404")
	}
	if head {
		c.out.printf("HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nDate: %s\r\n\r\n", status,
			c.s.net.clock.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
		return 0
	}
	if remoteName && output == "" {
		output = path.Base(urlPath)
		if output == "/" || output == "." {
			return complain(23, "Failed writing body")
		}
	}
	if output != "" && output != "-" {
		if _, err := c.s.writeFile(c.s.abs(output), vfs.Content(body), "curl", false); err != nil {
			return complain(23, "Failure writing output to destination")
		}
		return 0
	}
	c.out.WriteString(body)
	return 0
}

// sysTextOf is the text of a system file of h, or "".
func sysTextOf(h *host, p string) string {
	t, err := h.fs.ReadContent(p)
	if err != nil {
		return ""
	}
	return t
}

// nodeMetrics is a short page of the node exporter's metrics for h.
func (s *session) nodeMetrics(h *host) string {
	load := strings.Fields(sysTextOf(h, "/proc/loadavg"))
	for len(load) < 3 {
		load = append(load, "0")
	}
	memTotal, memAvail := int64(0), int64(0)
	for _, l := range splitLines(sysTextOf(h, "/proc/meminfo")) {
		f := strings.Fields(l)
		if len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "MemTotal:":
				memTotal = n * 1024
			case "MemAvailable:":
				memAvail = n * 1024
			}
		}
	}
	size, used := h.fs.Usage()
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP node_boot_time_seconds Node boot time, in unixtime.\n# TYPE node_boot_time_seconds gauge\nnode_boot_time_seconds %d\n", h.boot.Unix())
	fmt.Fprintf(&b, "# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.\n# TYPE node_filesystem_avail_bytes gauge\nnode_filesystem_avail_bytes{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} %.6e\n", float64(size-used))
	fmt.Fprintf(&b, "# HELP node_filesystem_size_bytes Filesystem size in bytes.\n# TYPE node_filesystem_size_bytes gauge\nnode_filesystem_size_bytes{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} %.6e\n", float64(size))
	for i, name := range []string{"node_load1", "node_load5", "node_load15"} {
		fmt.Fprintf(&b, "# HELP %s %s-minute load average.\n# TYPE %s gauge\n%s %s\n", name, []string{"1", "5", "15"}[i], name, name, load[i])
	}
	fmt.Fprintf(&b, "# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.\n# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes %.6e\n", float64(memAvail))
	fmt.Fprintf(&b, "# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes %.6e\n", float64(memTotal))
	fmt.Fprintf(&b, "# HELP node_uname_info Labeled system information as provided by the uname system call.\n# TYPE node_uname_info gauge\nnode_uname_info{domainname=\"(none)\",machine=\"x86_64\",nodename=\"%s\",release=\"%s\",sysname=\"Linux\",version=\"#1 SMP PREEMPT_DYNAMIC Debian 6.1.128-1 (2025-02-07)\"} 1\n", h.name, kernelName())
	return b.String()
}
