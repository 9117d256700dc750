package shell

import "testing"

// The digests are the ones OpenSSL 3.0 prints for "abc", in its format.
func TestOpenSSL(t *testing.T) {
	runCases(t, []runCase{
		{name: "version", line: "openssl version", stdout: "OpenSSL 3.0.15 3 Sep 2024 (Library: OpenSSL 3.0.15 3 Sep 2024)\n"},
		{name: "dgst", line: "printf abc > f && openssl dgst -sha256 f", stdout: "SHA2-256(f)= ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"},
		{name: "md5 -r", line: "printf abc > f && openssl md5 -r f", stdout: "900150983cd24fb0d6963f7d28e17f72 *f\n"},
		{name: "stdin", line: "printf abc | openssl sha1", stdout: "SHA1(stdin)= a9993e364706816aba3e25717850c26c9cd0d89d\n"},
		{name: "agrees with the sum commands on a declared file", host: "models",
			line:   `f=/models/v1/weights.safetensors; [ "$(openssl md5 -r $f | cut -d' ' -f1)" = "$(md5sum $f | cut -d' ' -f1)" ] && [ "$(openssl sha512 -r $f | cut -d' ' -f1)" = "$(sha512sum $f | cut -d' ' -f1)" ] && openssl dgst -sha256 -r $f`,
			stdout: "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12 */models/v1/weights.safetensors\n"},
		{name: "rand -hex", line: "openssl rand -hex 16 | tr -d '\\n' | wc -c", stdout: "32\n"},
		{name: "rand -base64 -out", line: "openssl rand -base64 -out k 24 && wc -c < k", stdout: "33\n"},
		{name: "unknown digest", line: "openssl dgst -foo f", stderr: "dgst: Unknown option or message digest: foo\ndgst: Use -help for summary.\n", code: 1},
		{name: "unknown command", line: "openssl nosuch", stderr: "Invalid command 'nosuch'; type \"help\" for a list.\n", code: 1},
		{name: "listed by dpkg", line: "dpkg -S /usr/bin/openssl /usr/bin/ssh-keygen", stdout: "openssl: /usr/bin/openssl\nopenssh-client: /usr/bin/ssh-keygen\n"},
	})
}
