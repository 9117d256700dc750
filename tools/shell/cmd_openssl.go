package shell

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// The openssl command line of OpenSSL 3.0 (Debian 12), for what agents ask
// of it: its version, random bytes and digests. It has no network to
// connect to and no certificates to make; those subcommands fail as they
// would on a host that cannot reach the peer or write the files.

func init() {
	register(map[string]cmdFunc{"openssl": cmdOpenSSL})
}

// digests are the hashes md5sum, the sha*sum family and openssl dgst
// share, by name.
var digests = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New,
}

// digestHex is the hex digest of in with algo, charging the time hashing
// its size takes. A declared file's content stands for its SHA-256, so
// every digest of it follows from that and agrees across commands.
func (s *session) digestHex(algo string, in input) string {
	s.spendHash(algo, in.size)
	if algo == "sha256" {
		return in.sha
	}
	h := digests[algo]()
	if in.binary {
		h.Write([]byte("declared:" + in.sha))
	} else {
		h.Write([]byte(in.text))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cmdOpenSSL(c *call) int {
	if len(c.args) == 0 {
		c.out.WriteString("help:\n")
		return c.opensslHelp()
	}
	sub, args := c.args[0], c.args[1:]
	switch sub {
	case "version":
		if len(args) > 0 && strings.Contains(args[0], "a") {
			c.out.WriteString("OpenSSL 3.0.15 3 Sep 2024 (Library: OpenSSL 3.0.15 3 Sep 2024)\nbuilt on: Wed Sep 18 21:54:36 2024 UTC\nplatform: debian-amd64\nOPENSSLDIR: \"/usr/lib/ssl\"\n")
			return 0
		}
		c.out.WriteString("OpenSSL 3.0.15 3 Sep 2024 (Library: OpenSSL 3.0.15 3 Sep 2024)\n")
		return 0
	case "help":
		return c.opensslHelp()
	case "rand":
		return c.opensslRand(args)
	case "dgst":
		return c.opensslDigest("sha256", args)
	case "md5", "sha1", "sha224", "sha256", "sha384", "sha512":
		return c.opensslDigest(sub, args)
	case "s_client":
		c.err.WriteString("connect:errno=101\n")
		return 1
	case "genrsa", "genpkey", "req", "x509", "enc", "base64", "pkey", "rsa", "ec", "passwd", "s_server", "ca", "verify", "pkcs12", "speed":
		c.err.printf("%s: Use -help for summary.\n", sub)
		return 1
	}
	c.err.printf("Invalid command '%s'; type \"help\" for a list.\n", sub)
	return 1
}

func (c *call) opensslHelp() int {
	c.out.WriteString("\nStandard commands\nasn1parse         ca                ciphers           cmp\ncms               crl               crl2pkcs7         dgst\ndhparam           dsa               dsaparam          ec\necparam           enc               engine            errstr\ngendsa            genpkey           genrsa            help\ninfo              kdf               list              mac\nnseq              ocsp              passwd            pkcs12\npkcs7             pkcs8             pkey              pkeyparam\npkeyutl           prime             rand              rehash\nreq               rsa               rsautl            s_client\ns_server          s_time            sess_id           smime\nspeed             spkac             srp               storeutl\nts                verify            version           x509\n\nMessage Digest commands (see the `dgst' command for more details)\nblake2b512        blake2s256        md4               md5\nrmd160            sha1              sha224            sha256\nsha3-224          sha3-256          sha3-384          sha3-512\nsha384            sha512            sha512-224        sha512-256\nshake128          shake256          sm3\n")
	return 0
}

// opensslRand is openssl rand [-hex|-base64] [-out FILE] NUM.
func (c *call) opensslRand(args []string) int {
	format, out, num := "", "", ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-hex", "-base64":
			format = a
		case "-out":
			if i+1 >= len(args) {
				c.err.WriteString("rand: Option -out needs a value\nrand: Use -help for summary.\n")
				return 1
			}
			i++
			out = args[i]
		default:
			if strings.HasPrefix(a, "-") {
				c.err.printf("rand: Unknown option: %s\nrand: Use -help for summary.\n", a)
				return 1
			}
			num = a
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		c.err.WriteString("rand: Use -help for summary.\n")
		return 1
	}
	if n > 1<<20 {
		n = 1 << 20 // a bounded world: larger asks get the first MiB
	}
	r := hostRand(c.s.net.clock.Now().UnixNano(), c.s.h.name, "openssl-rand:"+strconv.Itoa(c.s.pid))
	raw := randBytes(r, n)
	var text string
	switch format {
	case "-hex":
		text = hex.EncodeToString(raw) + "\n"
	case "-base64":
		text = wrap(base64.StdEncoding.EncodeToString(raw), 64)
	default:
		text = string(raw)
	}
	if out != "" {
		if _, err := c.s.writeFile(c.s.abs(out), vfs.Content(text), "openssl", false); err != nil {
			c.err.printf("rand: Can't open \"%s\" for writing, %s\n", out, errText(err))
			return 1
		}
		return 0
	}
	c.out.WriteString(text)
	return 0
}

// opensslDigest is openssl dgst [-ALGO] [-r] [FILE...].
func (c *call) opensslDigest(algo string, args []string) int {
	reverse := false
	var files []string
	for _, a := range args {
		switch {
		case a == "-r":
			reverse = true
		case a == "-hex":
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if _, ok := digests[a[1:]]; ok {
				algo = a[1:]
				continue
			}
			c.err.printf("dgst: Unknown option or message digest: %s\ndgst: Use -help for summary.\n", a[1:])
			return 1
		default:
			files = append(files, a)
		}
	}
	label := map[string]string{"md5": "MD5", "sha1": "SHA1", "sha224": "SHA2-224", "sha256": "SHA2-256", "sha384": "SHA2-384", "sha512": "SHA2-512"}[algo]
	names := files
	if len(names) == 0 {
		names = []string{"-"}
	}
	code := 0
	for _, name := range names {
		ins, e := c.inputs([]string{name})
		if e != 0 {
			code = 1
			continue
		}
		sum := c.s.digestHex(algo, ins[0])
		shown := name
		if name == "-" {
			shown = "stdin"
		}
		if reverse {
			c.out.printf("%s *%s\n", sum, shown)
		} else {
			c.out.printf("%s(%s)= %s\n", label, shown, sum)
		}
	}
	return code
}
