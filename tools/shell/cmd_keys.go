package shell

import (
	"bytes"
	"crypto/ecdh"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// ssh-keygen from OpenSSH 9.2: it makes keys from the world's deterministic
// randomness (ed25519 and ecdsa keys are real and load in OpenSSH; an rsa
// key has a public blob of the right shape around a random modulus), prints
// fingerprints and randomart, derives a public key from a
// private one, and searches or edits known_hosts. Agents set up keys to
// reach a host this way, so the files it writes are the files ssh reads.

func init() {
	register(map[string]cmdFunc{"ssh-keygen": cmdSSHKeygen})
}

func cmdSSHKeygen(c *call) int {
	fl, ops, bad := parseFlags(c.args, flagSpec{bools: "lqyvBH", values: "tbNCfFREP"})
	if bad != "" || len(ops) > 0 {
		if bad != "" {
			c.err.printf("ssh-keygen: %s\n", strings.Replace(bad, "invalid option", "illegal option", 1))
		}
		c.err.WriteString("usage: ssh-keygen [-q] [-a rounds] [-b bits] [-C comment] [-f output_keyfile]\n                  [-m format] [-N new_passphrase] [-O option]\n                  [-t dsa | ecdsa | ecdsa-sk | ed25519 | ed25519-sk | rsa]\n                  [-w provider] [-Z cipher]\n       ssh-keygen -l [-v] [-E fingerprint_hash] [-f input_keyfile]\n       ssh-keygen -y [-f input_keyfile]\n       ssh-keygen -F hostname [-lv] [-f known_hosts_file]\n       ssh-keygen -R hostname [-f known_hosts_file]\n")
		return 1
	}
	home := homeOf(c.s.user)
	switch {
	case fl.has("F"), fl.has("R"):
		return c.knownHosts(fl, home)
	case fl.has("l"):
		return c.keyFingerprint(fl.val("f"), fl.val("E"), fl.has("v"))
	case fl.has("y"):
		return c.keyPublic(fl.val("f"))
	}
	return c.keyGenerate(fl, home)
}

// sshKey is a key as ssh-keygen handles it: the public blob and what it
// prints about it.
type sshKey struct {
	kind    string // ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256
	blob    []byte
	bits    int
	comment string
}

func (k sshKey) label() string {
	switch k.kind {
	case "ssh-ed25519":
		return "ED25519"
	case "ssh-rsa":
		return "RSA"
	}
	return "ECDSA"
}

func (k sshKey) pubLine() string {
	line := k.kind + " " + base64.StdEncoding.EncodeToString(k.blob)
	if k.comment != "" {
		line += " " + k.comment
	}
	return line
}

func (k sshKey) fingerprint(algo string) string {
	if algo == "md5" {
		sum := md5.Sum(k.blob)
		hexes := make([]string, len(sum))
		for i, b := range sum {
			hexes[i] = fmt.Sprintf("%02x", b)
		}
		return "MD5:" + strings.Join(hexes, ":")
	}
	sum := sha256.Sum256(k.blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// randomart is OpenSSH's "drunken bishop" picture of the SHA-256 digest.
func (k sshKey) randomart() string {
	const w, h = 17, 9
	const symbols = " .o+=*BOX@%&#/^SE"
	top := len(symbols) - 1
	var field [w][h]int
	x, y := w/2, h/2
	sum := sha256.Sum256(k.blob)
	for _, b := range sum {
		in := int(b)
		for range 4 {
			if in&1 != 0 {
				x++
			} else {
				x--
			}
			if in&2 != 0 {
				y++
			} else {
				y--
			}
			x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
			if field[x][y] < top-2 {
				field[x][y]++
			}
			in >>= 2
		}
	}
	field[w/2][h/2] = top - 1
	field[x][y] = top
	frame := func(title string) string {
		left := (w - len(title)) / 2
		return "+" + strings.Repeat("-", left) + title + strings.Repeat("-", w-left-len(title)) + "+\n"
	}
	var b strings.Builder
	b.WriteString(frame(fmt.Sprintf("[%s %d]", k.label(), k.bits)))
	for row := range h {
		b.WriteByte('|')
		for col := range w {
			b.WriteByte(symbols[min(field[col][row], top)])
		}
		b.WriteString("|\n")
	}
	b.WriteString(frame("[SHA256]"))
	return b.String()
}

// parseKeyFile reads a public key line, or the public half of an
// openssh-key-v1 private key.
func parseKeyFile(text string) (sshKey, bool) {
	if strings.Contains(text, "-----BEGIN OPENSSH PRIVATE KEY-----") {
		body := text[strings.Index(text, "-----BEGIN OPENSSH PRIVATE KEY-----")+len("-----BEGIN OPENSSH PRIVATE KEY-----"):]
		body, _, _ = strings.Cut(body, "-----END")
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
		if err != nil || !bytes.HasPrefix(raw, []byte("openssh-key-v1\x00")) {
			return sshKey{}, false
		}
		r := raw[len("openssh-key-v1\x00"):]
		var fields [][]byte
		for range 3 { // cipher, kdf, kdf options
			var f []byte
			if f, r = readSSHString(r); f == nil && len(r) == 0 {
				return sshKey{}, false
			}
			fields = append(fields, f)
		}
		if len(r) < 4 {
			return sshKey{}, false
		}
		r = r[4:] // number of keys
		blob, rest := readSSHString(r)
		kind, _ := readSSHString(blob)
		if len(kind) == 0 {
			return sshKey{}, false
		}
		k := sshKey{kind: string(kind), blob: blob, bits: keyBits(string(kind), blob)}
		if string(fields[0]) == "none" {
			// The private section holds the key's fields and then the
			// comment, its last string before the padding.
			if priv, _ := readSSHString(rest); len(priv) > 8 {
				var last []byte
				for p := priv[8:]; ; {
					f, more := readSSHString(p)
					if f == nil {
						break
					}
					last, p = f, more
				}
				k.comment = string(last)
			}
		}
		return k, true
	}
	for _, line := range strings.Split(text, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 2 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(fs[1])
		if err != nil {
			continue
		}
		kind, _ := readSSHString(blob)
		if string(kind) != fs[0] {
			continue
		}
		return sshKey{kind: fs[0], blob: blob, bits: keyBits(fs[0], blob), comment: strings.Join(fs[2:], " ")}, true
	}
	return sshKey{}, false
}

func readSSHString(b []byte) (s, rest []byte) {
	if len(b) < 4 {
		return nil, nil
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil
	}
	return b[4 : 4+n], b[4+n:]
}

func keyBits(kind string, blob []byte) int {
	switch kind {
	case "ssh-ed25519":
		return 256
	case "ssh-rsa":
		_, r := readSSHString(blob)
		_, r = readSSHString(r) // e
		n, _ := readSSHString(r)
		if len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		return len(n) * 8
	case "ecdsa-sha2-nistp384":
		return 384
	case "ecdsa-sha2-nistp521":
		return 521
	}
	return 256
}

func (c *call) readKey(file string) (sshKey, int) {
	p := c.s.abs(file)
	b, err := c.s.readFile(p)
	if err != nil {
		c.err.printf("%s: %s\n", file, errText(err))
		return sshKey{}, 1
	}
	k, ok := parseKeyFile(string(b.Content))
	if !ok {
		c.err.printf("%s is not a key file.\n", file)
		return sshKey{}, 255
	}
	return k, 0
}

func (c *call) keyFingerprint(file, algo string, art bool) int {
	if file == "" {
		c.err.WriteString("Enter file in which the key is: ")
		return 1
	}
	if algo != "" && algo != "md5" && algo != "sha256" {
		c.err.printf("Invalid hash algorithm \"%s\"\n", algo)
		return 255
	}
	k, code := c.readKey(file)
	if code != 0 {
		return code
	}
	comment := k.comment
	if comment == "" {
		comment = "no comment"
	}
	c.out.printf("%d %s %s (%s)\n", k.bits, k.fingerprint(algo), comment, k.label())
	if art {
		c.out.WriteString(k.randomart())
	}
	return 0
}

func (c *call) keyPublic(file string) int {
	if file == "" {
		c.err.WriteString("Enter file in which the key is: ")
		return 1
	}
	k, code := c.readKey(file)
	if code != 0 {
		return code
	}
	c.out.WriteString(k.pubLine() + "\n")
	return 0
}

// keyGenerate writes a new key pair, as ssh-keygen -t TYPE -f FILE -N PASS.
func (c *call) keyGenerate(fl flags, home string) int {
	kind := fl.val("t")
	if kind == "" {
		kind = "rsa" // OpenSSH 9.2's default
	}
	bits := map[string]int{"ed25519": 256, "rsa": 3072, "ecdsa": 256}[kind]
	if b := fl.val("b"); b != "" && kind != "ed25519" {
		n, err := strconv.Atoi(b)
		if err != nil {
			c.err.printf("Bits has bad value %s (invalid)\n", b)
			return 255
		}
		bits = n
	}
	switch kind {
	case "ed25519":
	case "rsa":
		if bits < 1024 {
			c.err.WriteString("Invalid RSA key length: minimum is 1024\n")
			return 255
		}
		if bits > 16384 {
			c.err.WriteString("Invalid RSA key length: maximum is 16384\n")
			return 255
		}
	case "ecdsa":
		if bits != 256 && bits != 384 && bits != 521 {
			c.err.WriteString("Invalid ECDSA key length: valid lengths are 256, 384 or 521 bits\n")
			return 255
		}
	case "dsa":
		c.err.WriteString("unknown key type dsa\n")
		return 1
	default:
		c.err.printf("unknown key type %s\n", kind)
		return 1
	}
	quiet := fl.has("q")
	comment := c.s.user + "@" + c.s.h.name
	if fl.has("C") {
		comment = fl.val("C")
	}
	if !quiet {
		c.out.printf("Generating public/private %s key pair.\n", kind)
	}
	file := fl.val("f")
	if !fl.has("f") {
		// It asks on the terminal; a tool call has none, so it reads EOF.
		c.out.printf("Enter file in which to save the key (%s/.ssh/id_%s): ", home, kind)
		line := firstLine(c.in.text)
		c.consumeInput()
		if c.in.text == "" {
			return 1
		}
		file = line
		if file == "" {
			file = home + "/.ssh/id_" + kind
			if _, err := c.s.h.fs.Stat(home + "/.ssh"); err != nil {
				if err := c.s.h.fs.Mkdir(home+"/.ssh", c.s.user, 0o700, false); err == nil {
					c.out.printf("Created directory '%s/.ssh'.\n", home)
				}
			}
		}
	}
	priv := c.s.abs(file)
	if _, err := c.s.h.fs.Stat(priv); err == nil {
		c.out.printf("%s already exists.\nOverwrite (y/n)? ", file)
		answer := firstLine(c.in.text)
		c.consumeInput()
		if !strings.HasPrefix(strings.ToLower(answer), "y") {
			c.out.WriteString("\n")
			return 1
		}
	}
	// The world's randomness, by time and place; a key that replaces
	// another also differs from it.
	purpose := "ssh-keygen:" + priv
	if old, err := c.s.h.fs.Read(priv); err == nil {
		purpose += ":" + old.SHA256
	}
	r := hostRand(c.s.net.clock.Now().UnixNano(), c.s.h.name, purpose)
	var k sshKey
	var privText string
	switch kind {
	case "ed25519":
		key := keyFrom(r)
		k = sshKey{kind: "ssh-ed25519", blob: ed25519PubBlob(key), bits: 256, comment: comment}
		privText = ed25519PrivatePEM(key, comment, r)
	case "rsa":
		n := randBytes(r, bits/8)
		n[0] |= 0x80
		n[len(n)-1] |= 1
		blob := append(sshString([]byte("ssh-rsa")), sshString([]byte{1, 0, 1})...)
		blob = append(blob, sshString(append([]byte{0}, n...))...)
		k = sshKey{kind: "ssh-rsa", blob: blob, bits: bits, comment: comment}
		privText = opensshPrivate(blob, randBytes(r, bits/8*4), comment)
	default:
		curve := map[int]string{256: "nistp256", 384: "nistp384", 521: "nistp521"}[bits]
		ec := map[int]ecdh.Curve{256: ecdh.P256(), 384: ecdh.P384(), 521: ecdh.P521()}[bits]
		var key *ecdh.PrivateKey
		for key == nil { // a scalar of the curve's order, from the world's randomness
			scalar := randBytes(r, (bits+7)/8)
			if bits == 521 {
				scalar[0] &= 1
			}
			key, _ = ec.NewPrivateKey(scalar)
		}
		blob := append(sshString([]byte("ecdsa-sha2-"+curve)), sshString([]byte(curve))...)
		blob = append(blob, sshString(key.PublicKey().Bytes())...)
		k = sshKey{kind: "ecdsa-sha2-" + curve, blob: blob, bits: bits, comment: comment}
		d := key.Bytes()
		if d[0]&0x80 != 0 { // an mpint stays positive
			d = append([]byte{0}, d...)
		}
		privText = opensshPrivate(blob, d, comment)
	}
	if err := c.saveKey(priv, privText, 0o600); err != nil {
		c.err.printf("Saving key \"%s\" failed: %s\n", file, errText(err))
		return 1
	}
	if err := c.saveKey(priv+".pub", k.pubLine()+"\n", 0o644); err != nil {
		c.err.printf("Unable to save public key to %s.pub: %s\n", file, errText(err))
		return 1
	}
	if !quiet {
		c.out.printf("Your identification has been saved in %s\nYour public key has been saved in %s.pub\n", file, file)
		c.out.printf("The key fingerprint is:\n%s %s\nThe key's randomart image is:\n%s", k.fingerprint("sha256"), comment, k.randomart())
	}
	return 0
}

// opensshPrivate is an unencrypted openssh-key-v1 file around a public
// blob and private bytes.
func opensshPrivate(pub, secret []byte, comment string) string {
	var priv []byte
	priv = append(priv, 0x5e, 0x1f, 0x5e, 0x1f, 0x5e, 0x1f, 0x5e, 0x1f)
	priv = append(priv, pub...)
	priv = append(priv, sshString(secret)...)
	priv = append(priv, sshString([]byte(comment))...)
	for i := byte(1); len(priv)%8 != 0; i++ {
		priv = append(priv, i)
	}
	b := []byte("openssh-key-v1\x00")
	b = append(b, sshString([]byte("none"))...)
	b = append(b, sshString([]byte("none"))...)
	b = append(b, sshString(nil)...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, sshString(pub)...)
	b = append(b, sshString(priv)...)
	return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wrap(base64.StdEncoding.EncodeToString(b), 70) + "-----END OPENSSH PRIVATE KEY-----\n"
}

func (c *call) saveKey(p, text string, mode fs.FileMode) error {
	if err := c.s.canWrite(p); err != nil {
		return err
	}
	_, err := c.s.writeFileOpts(p, vfs.Content(text), "ssh-keygen", true, vfs.WriteOptions{Mode: mode})
	if err == nil {
		err = c.s.h.fs.Chmod(p, mode)
	}
	return err
}

// knownHosts is ssh-keygen -F HOST (print its lines) and -R HOST (remove
// them, keeping known_hosts.old).
func (c *call) knownHosts(fl flags, home string) int {
	file := fl.val("f")
	if file == "" {
		file = home + "/.ssh/known_hosts"
	}
	p := c.s.abs(file)
	b, err := c.s.readFile(p)
	if err != nil {
		if fl.has("R") {
			c.err.printf("Cannot stat %s: %s\n", file, errText(err))
			return 255
		}
		return 1
	}
	host := fl.val("F")
	if fl.has("R") {
		host = fl.val("R")
	}
	var kept []string
	found := 0
	for i, line := range strings.Split(strings.TrimSuffix(string(b.Content), "\n"), "\n") {
		names, _, _ := strings.Cut(line, " ")
		match := false
		for _, n := range strings.Split(names, ",") {
			if n == host || n == "["+host+"]:22" {
				match = true
			}
		}
		if !match {
			kept = append(kept, line)
			continue
		}
		found++
		if fl.has("F") {
			c.out.printf("# Host %s found: line %d \n%s\n", host, i+1, line)
		} else {
			c.out.printf("# Host %s found: line %d\n", host, i+1)
		}
	}
	if fl.has("F") {
		if found == 0 {
			return 1
		}
		return 0
	}
	if found == 0 {
		return 0
	}
	if _, err := c.s.writeFile(p+".old", b, "ssh-keygen", false); err != nil {
		c.err.printf("link %s to %s.old: %s\n", file, file, errText(err))
		return 255
	}
	text := strings.Join(kept, "\n")
	if text != "" {
		text += "\n"
	}
	if _, err := c.s.writeFile(p, vfs.Content(text), "ssh-keygen", false); err != nil {
		c.err.printf("%s: %s\n", file, errText(err))
		return 255
	}
	c.out.printf("%s updated.\nOriginal contents retained as %s.old\n", file, file)
	return 0
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}
