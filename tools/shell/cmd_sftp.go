package shell

import (
	"path"
	"strings"
)

// sftp, OpenSSH's file transfer client, reading its commands from a batch
// file (-b) or standard input as it does when no terminal is attached.
// Each transfer is an scp of the same file, so a copy through sftp keeps
// the provenance (and the events) any other copy has.

func init() {
	register(map[string]cmdFunc{"sftp": cmdSftp})
}

const sftpUsage = "usage: sftp [-46AaCfNpqrv] [-B buffer_size] [-b batchfile] [-c cipher]\n          [-D sftp_server_command] [-F ssh_config] [-i identity_file]\n          [-J destination] [-l limit] [-o ssh_option] [-P port]\n          [-R num_requests] [-S program] [-s subsystem | sftp_server]\n          destination\n"

// sftpSession is one sftp connection: where it is on each side.
type sftpSession struct {
	c          *call
	host, user string // the destination as given (user@ kept for scp)
	remote     string // the remote working directory
	batch      bool   // -b: a failing command ends the session
	quiet      bool
}

func cmdSftp(c *call) int {
	var batchFile, dest string
	s := &sftpSession{c: c}
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if dest != "" {
				c.err.WriteString(sftpUsage)
				return 1
			}
			dest = a
			continue
		}
		for j := 1; j < len(a); j++ {
			ch := a[j]
			switch {
			case strings.IndexByte("46AaCfNprv", ch) >= 0:
			case ch == 'q':
				s.quiet = true
			case strings.IndexByte("BbcDFiJloPRSs", ch) >= 0:
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						c.err.printf("sftp: option requires an argument -- %c\n%s", ch, sftpUsage)
						return 1
					}
					i++
					v = args[i]
				}
				if ch == 'b' {
					batchFile = v
				}
				j = len(a)
			default:
				c.err.printf("sftp: unknown option -- %c\n%s", ch, sftpUsage)
				return 1
			}
		}
	}
	if dest == "" {
		c.err.WriteString(sftpUsage)
		return 1
	}
	host, start, _ := strings.Cut(dest, ":")
	s.host = host
	if u, h, ok := strings.Cut(host, "@"); ok {
		s.user, s.host = u, h
	}
	var script string
	if batchFile != "" {
		s.batch = true
		if batchFile == "-" {
			script = c.in.text
			c.consumeInput()
		} else {
			b, err := c.s.readFile(c.s.abs(batchFile))
			if err != nil {
				c.err.printf("%s (%s).\n", errText(err), batchFile)
				return 1
			}
			script = b.Content
		}
	} else {
		script = c.in.text
		c.consumeInput()
	}
	// Connect: the remote home is where the session starts.
	home, code := s.remoteRun("pwd")
	if code != 0 {
		c.err.WriteString("Connection closed\n")
		return 255
	}
	s.remote = strings.TrimSpace(home)
	if start != "" {
		s.remote = s.remotePath(start)
	}
	if !s.quiet {
		c.err.printf("Connected to %s.\n", s.host)
	}
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ignore := strings.HasPrefix(line, "-") // a leading - lets a batch command fail
		line = strings.TrimPrefix(line, "-")
		c.out.printf("sftp> %s\n", line)
		ok, done := s.command(line)
		if done {
			break
		}
		if !ok && s.batch && !ignore {
			return 1
		}
	}
	return 0
}

// target is the destination scp and ssh are given.
func (s *sftpSession) target() string {
	if s.user != "" {
		return s.user + "@" + s.host
	}
	return s.host
}

// remoteRun runs line on the remote host and returns what it printed;
// its errors go to sftp's standard error.
func (s *sftpSession) remoteRun(line string) (string, int) {
	sub := *s.c
	sub.out = &outBuf{limit: MaxOutput, bud: s.c.s.bud}
	code := sub.run([]string{"ssh", s.target(), line}, stream{})
	return sub.out.b.String(), code
}

func (s *sftpSession) remotePath(p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(s.remote, p)
}

// command runs one sftp command; it reports whether it succeeded and
// whether the session is over.
func (s *sftpSession) command(line string) (ok, done bool) {
	c := s.c
	if strings.HasPrefix(line, "!") {
		return c.runScript(strings.TrimPrefix(line, "!"), nil, stream{}) == 0, false
	}
	f := strings.Fields(line)
	cmd, args := f[0], f[1:]
	var flags []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flags, args = append(flags, args[0]), args[1:]
	}
	rec := strings.Contains(strings.Join(flags, ""), "r")
	switch cmd {
	case "bye", "exit", "quit":
		return true, true
	case "put", "mput", "get", "mget":
		if len(args) == 0 {
			c.err.printf("You must specify at least one path after a %s command.\n", cmd)
			return false, false
		}
		upload := cmd == "put" || cmd == "mput"
		src := args[0]
		var dst string
		if len(args) > 1 {
			dst = args[1]
		}
		scp := []string{"scp"}
		if rec {
			scp = append(scp, "-r")
		}
		if upload {
			local := c.s.abs(src)
			if _, err := c.s.h.fs.Stat(local); err != nil && !strings.ContainsAny(src, "*?[") {
				c.err.printf("stat local \"%s\": %s\n", src, errText(err))
				return false, false
			}
			remote := s.remote
			if dst != "" {
				remote = s.remotePath(dst)
			}
			shown := remote
			if dst == "" || strings.HasSuffix(dst, "/") {
				shown = path.Join(remote, path.Base(src))
			}
			c.out.printf("Uploading %s to %s\n", src, shown)
			code := c.run(append(scp, src, s.target()+":"+remote), stream{})
			return code == 0, false
		}
		remote := s.remotePath(src)
		local := dst
		if local == "" {
			local = "."
		}
		c.out.printf("Fetching %s to %s\n", remote, path.Join(local, path.Base(remote)))
		code := c.run(append(scp, s.target()+":"+remote, local), stream{})
		return code == 0, false
	case "ls", "dir":
		dir := s.remote
		if len(args) > 0 {
			dir = s.remotePath(args[0])
		}
		long := strings.Contains(strings.Join(flags, ""), "l")
		list := "ls -1 -- " + shellQuote(dir)
		if long {
			list = "ls -l -- " + shellQuote(dir) + " | tail -n +2"
		}
		out, code := s.remoteRun(list)
		if code != 0 {
			c.err.printf("Can't ls: \"%s\" not found\n", dir)
			return false, false
		}
		if long {
			c.out.WriteString(out)
		} else {
			c.out.WriteString(sftpColumns(strings.Fields(out)))
		}
		return true, false
	case "cd":
		dir := "~"
		if len(args) > 0 {
			dir = args[0]
		}
		target := s.remotePath(dir)
		if dir == "~" {
			home, _ := s.remoteRun("pwd")
			target = strings.TrimSpace(home)
		}
		if _, code := s.remoteRun("test -d " + shellQuote(target)); code != 0 {
			c.err.printf("stat remote: No such file or directory\n")
			return false, false
		}
		s.remote = target
		return true, false
	case "pwd":
		c.out.printf("Remote working directory: %s\n", s.remote)
		return true, false
	case "lpwd":
		c.out.printf("Local working directory: %s\n", c.s.cwd)
		return true, false
	case "lcd":
		if len(args) == 0 {
			return true, false
		}
		return cmdCd(&call{s: c.s, name: "lcd", args: args[:1], in: stream{}, out: &outBuf{}, err: c.err, io: c.io}) == 0, false
	case "lls":
		return c.run(append([]string{"ls"}, append(flags, args...)...), stream{}) == 0, false
	case "mkdir", "rm", "rmdir", "chmod", "rename", "ln", "symlink":
		var remote []string
		for _, a := range args {
			remote = append(remote, shellQuote(s.remotePath(a)))
		}
		verb := map[string]string{"rename": "mv", "symlink": "ln -s", "ln": "ln"}[cmd]
		if verb == "" {
			verb = cmd
		}
		if cmd == "chmod" && len(args) > 0 {
			remote[0] = shellQuote(args[0]) // the mode
		}
		if len(remote) == 0 {
			c.err.printf("You must specify a path after a %s command.\n", cmd)
			return false, false
		}
		_, code := s.remoteRun(verb + " " + strings.Join(remote, " "))
		if code != 0 {
			c.err.printf("Couldn't %s: Failure\n", cmd)
		}
		return code == 0, false
	case "version":
		c.out.WriteString("SFTP protocol version 3\n")
		return true, false
	case "help", "?":
		c.out.WriteString("Available commands:\nbye                                Quit sftp\ncd path                            Change remote directory to 'path'\nchmod [-h] mode path               Change permissions of file 'path' to 'mode'\nexit                               Quit sftp\nget [-afpR] remote [local]         Download file\nhelp                               Display this help text\nlcd path                           Change local directory to 'path'\nlls [ls-options [path]]            Display local directory listing\nlpwd                               Print local working directory\nls [-1afhlnrSt] [path]             Display remote directory listing\nmkdir path                         Create remote directory\nput [-afpR] local [remote]         Upload file\npwd                                Display remote working directory\nquit                               Quit sftp\nrename oldpath newpath             Rename remote file\nrm path                            Delete remote file\nrmdir path                         Remove remote directory\nversion                            Show SFTP version\n!command                           Execute 'command' in local shell\n!                                  Escape to local shell\n?                                  Synonym for help\n")
		return true, false
	}
	c.err.WriteString("Invalid command.\n")
	return false, false
}

// sftpColumns lays names out as sftp's ls does for an 80-column
// listing.
func sftpColumns(names []string) string {
	if len(names) == 0 {
		return ""
	}
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	width++
	cols := max(1, 80/width)
	var b strings.Builder
	for i, n := range names {
		b.WriteString(n)
		if (i+1)%cols == 0 || i == len(names)-1 {
			b.WriteString("\n")
		} else {
			b.WriteString(strings.Repeat(" ", width-len(n)))
		}
	}
	return b.String()
}
