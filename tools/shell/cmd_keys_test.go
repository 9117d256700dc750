package shell

import "testing"

// edPub and edArt are an ed25519 key this package generated and what
// OpenSSH 9.2's own "ssh-keygen -lv" printed for it (its -E md5
// fingerprint begins MD5:8e:a8:).
const (
	edPub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJEQ8Le4K9+lF0pE/Fj82uejQvHdMG98aYBcuCWRWST9 alex@ws"
	edArt = `256 SHA256:n7rzHx6w1z89Dfuu6xbe5OZQKE4E4JJ/yipc7yVky+g alex@ws (ED25519)
+--[ED25519 256]--+
|        ...      |
|       o   .     |
|      o .   .    |
|       o   .   . |
|        S o o . .|
|      .* = * oo..|
|   . ...* = =.oBo|
|    o. .o+ o o+=*|
|     .E.++..oo+BB|
+----[SHA256]-----+
`
)

func TestSSHKeygen(t *testing.T) {
	runCases(t, []runCase{
		{name: "fingerprint and randomart as OpenSSH prints them", line: "echo '" + edPub + "' > k.pub && ssh-keygen -lv -f k.pub", stdout: edArt},
		{name: "md5 fingerprint", line: "echo '" + edPub + "' > k.pub && ssh-keygen -l -E md5 -f k.pub | cut -d' ' -f2 | cut -c1-10", stdout: "MD5:8e:a8:\n"},
		{name: "generate quietly", line: "ssh-keygen -t ed25519 -N '' -q -f k && ls k k.pub && stat -c '%a %U' k k.pub",
			stdout: "k\nk.pub\n600 alex\n644 alex\n"},
		{name: "generate", line: "ssh-keygen -t ed25519 -N '' -f /home/alex/k", has: []string{
			"Generating public/private ed25519 key pair.\nYour identification has been saved in /home/alex/k\nYour public key has been saved in /home/alex/k.pub\nThe key fingerprint is:\nSHA256:",
			" alex@ws\nThe key's randomart image is:\n+--[ED25519 256]--+\n", "+----[SHA256]-----+\n"}},
		{name: "private and public agree", line: `ssh-keygen -t ed25519 -N '' -q -f k -C me@there && [ "$(ssh-keygen -y -f k)" = "$(cat k.pub)" ] && [ "$(ssh-keygen -l -f k)" = "$(ssh-keygen -l -f k.pub)" ] && ssh-keygen -l -f k | cut -d' ' -f1,3-`,
			stdout: "256 me@there (ED25519)\n"},
		{name: "rsa by default", line: "ssh-keygen -N '' -q -f k && ssh-keygen -l -f k.pub | cut -d' ' -f1,4", stdout: "3072 (RSA)\n"},
		{name: "an ecdsa private key's comment", line: `ssh-keygen -t ecdsa -N '' -q -f k -C me@there && [ "$(ssh-keygen -l -f k)" = "$(ssh-keygen -l -f k.pub)" ] && ssh-keygen -l -f k | cut -d' ' -f1,3-`,
			stdout: "256 me@there (ECDSA)\n"},
		{name: "bad bits", line: "ssh-keygen -t rsa -b x -f k", stderr: "Bits has bad value x (invalid)\n", code: 255},
		{name: "ecdsa 384", line: "ssh-keygen -t ecdsa -b 384 -N '' -q -f k && cut -d' ' -f1 k.pub", stdout: "ecdsa-sha2-nistp384\n"},
		{name: "no overwrite without an answer", line: "ssh-keygen -t ed25519 -N '' -q -f k; ssh-keygen -t ed25519 -N '' -q -f k", stdout: "k already exists.\nOverwrite (y/n)? \n", code: 1},
		{name: "overwrite on y", line: "ssh-keygen -t ed25519 -N '' -q -f k; a=$(cat k.pub); echo y | ssh-keygen -t ed25519 -N '' -q -f k >/dev/null; [ \"$a\" != \"$(cat k.pub)\" ] && echo new", stdout: "new\n"},
		{name: "asks for a file and reads EOF", line: "ssh-keygen -t ed25519 -N ''", stdout: "Generating public/private ed25519 key pair.\nEnter file in which to save the key (/home/alex/.ssh/id_ed25519): ", code: 1},
		{name: "missing file", line: "ssh-keygen -l -f nope.pub", stderr: "nope.pub: No such file or directory\n", code: 1},
		{name: "not a key", line: "ssh-keygen -l -f notes.txt", stderr: "notes.txt is not a key file.\n", code: 255},
		{name: "unknown type", line: "ssh-keygen -t foo -f k", stderr: "unknown key type foo\n", code: 1},
		{name: "known_hosts search and remove", line: "mkdir -p .ssh && printf 'models ssh-ed25519 AAAA\\next ssh-ed25519 BBBB\\n' > .ssh/known_hosts && ssh-keygen -R models && cat .ssh/known_hosts .ssh/known_hosts.old | wc -l && ssh-keygen -F models; echo $?",
			stdout: "# Host models found: line 1\n/home/alex/.ssh/known_hosts updated.\nOriginal contents retained as /home/alex/.ssh/known_hosts.old\n3\n1\n"},
	})
}
