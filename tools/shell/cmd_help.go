package shell

import (
	"fmt"
	"strings"
)

// --help and --version for the programs that do not answer them
// themselves: the first lines GNU and procps print, the version of the
// package the host has installed (see debianPackages).

// standardOption answers a lone --help or --version; ok is false when the
// program handles its own or has none listed here.
func (c *call) standardOption() (int, bool) {
	if len(c.args) != 1 || (c.args[0] != "--help" && c.args[0] != "--version") {
		return 0, false
	}
	usage, ok := helpTexts[c.name]
	if !ok {
		return 0, false
	}
	if c.args[0] == "--version" {
		c.out.WriteString(versionText(c.name))
		return 0, true
	}
	c.out.WriteString(usage)
	if p := packageOf(c.name); p != nil && p.name == "coreutils" {
		c.out.printf("\n      --help        display this help and exit\n      --version     output version information and exit\n\nGNU coreutils online help: <https://www.gnu.org/software/coreutils/>\nFull documentation <https://www.gnu.org/software/coreutils/%s>\nor available locally via: info '(coreutils) %s invocation'\n", c.name, c.name)
	}
	return 0, true
}

func versionText(name string) string {
	gpl := "Copyright (C) 2022 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\nThis is free software: you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n"
	p := packageOf(name)
	switch {
	case p == nil:
		return name + "\n"
	case p.name == "coreutils":
		return fmt.Sprintf("%s (GNU coreutils) 9.1\n%s\nWritten by %s.\n", name, gpl, coreutilsAuthor(name))
	case p.name == "grep":
		return "grep (GNU grep) 3.8\n" + gpl + "\nWritten by Mike Haertel and others; see\n<https://git.sv.gnu.org/cgit/grep.git/tree/AUTHORS>.\n"
	case p.name == "sed":
		return "sed (GNU sed) 4.9\n" + gpl + "\nWritten by Jay Fenlason, Tom Lord, Ken Pizzini,\nPaolo Bonzini, Jim Meyering, and Assaf Gordon.\n"
	case p.name == "findutils":
		return fmt.Sprintf("%s (GNU findutils) 4.9.0\n%s\nWritten by Eric B. Decker, James Youngman, and Kevin Dalley.\n", name, gpl)
	case p.name == "procps":
		return fmt.Sprintf("%s from procps-ng 4.0.2\n", name)
	case p.name == "systemd":
		return "systemd 252 (252.33-1~deb12u1)\n+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified\n"
	case p.name == "curl":
		return "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13 brotli/1.0.9 zstd/1.5.4 libidn2/2.3.3 libpsl/0.21.2 (+libidn2/2.3.3) libssh2/1.10.0 nghttp2/1.52.0 librtmp/2.3 OpenLDAP/2.5.13\nRelease-Date: 2023-02-20, security patched: 7.88.1-10+deb12u8\nProtocols: dict file ftp ftps gopher gophers http https imap imaps ldap ldaps mqtt pop3 pop3s rtmp rtsp scp sftp smb smbs smtp smtps telnet tftp\nFeatures: alt-svc AsynchDNS brotli GSS-API HSTS HTTP2 HTTPS-proxy IDN IPv6 Kerberos Largefile libz NTLM NTLM_WB PSL SPNEGO SSL threadsafe TLS-SRP UnixSockets zstd\n"
	case p.name == "rsync":
		return "rsync  version 3.2.7  protocol version 31\nCopyright (C) 1996-2022 by Andrew Tridgell, Wayne Davison, and others.\nWeb site: https://rsync.samba.org/\n"
	case p.name == "wget":
		return "GNU Wget 1.21.3 built on linux-gnu.\n"
	case p.name == "file":
		return "file-5.44\nmagic file from /etc/magic:/usr/share/misc/magic\n"
	case p.name == "less":
		return "less 590 (GNU regular expressions)\nCopyright (C) 1984-2021  Mark Nudelman\n"
	case p.name == "sudo":
		return "Sudo version 1.9.13p3\nSudoers policy plugin version 1.9.13p3\nSudoers file grammar version 50\nSudoers I/O plugin version 1.9.13p3\nSudoers audit plugin version 1.9.13p3\n"
	}
	return fmt.Sprintf("%s %s\n", name, strings.SplitN(p.version, "-", 2)[0])
}

// helpTexts are the opening of each program's --help.
var helpTexts = map[string]string{
	"ls":         "Usage: ls [OPTION]... [FILE]...\nList information about the FILEs (the current directory by default).\nSort entries alphabetically if none of -cftuvSUX nor --sort is specified.\n\nMandatory arguments to long options are mandatory for short options too.\n  -a, --all                  do not ignore entries starting with .\n  -A, --almost-all           do not list implied . and ..\n  -d, --directory            list directories themselves, not their contents\n  -h, --human-readable       with -l and -s, print sizes like 1K 234M 2G etc.\n  -l                         use a long listing format\n  -r, --reverse              reverse order while sorting\n  -R, --recursive            list subdirectories recursively\n  -S                         sort by file size, largest first\n  -t                         sort by time, newest first; see --time\n  -1                         list one file per line\n",
	"cat":        "Usage: cat [OPTION]... [FILE]...\nConcatenate FILE(s) to standard output.\n\nWith no FILE, or when FILE is -, read standard input.\n\n  -A, --show-all           equivalent to -vET\n  -b, --number-nonblank    number nonempty output lines, overrides -n\n  -E, --show-ends          display $ at end of each line\n  -n, --number             number all output lines\n  -s, --squeeze-blank      suppress repeated empty output lines\n  -T, --show-tabs          display TAB characters as ^I\n",
	"cp":         "Usage: cp [OPTION]... [-T] SOURCE DEST\n  or:  cp [OPTION]... SOURCE... DIRECTORY\n  or:  cp [OPTION]... -t DIRECTORY SOURCE...\nCopy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY.\n\n  -a, --archive                same as -dR --preserve=all\n  -f, --force                  if an existing destination file cannot be\n                                 opened, remove it and try again\n  -n, --no-clobber             do not overwrite an existing file\n  -p                           same as --preserve=mode,ownership,timestamps\n  -R, -r, --recursive          copy directories recursively\n  -v, --verbose                explain what is being done\n",
	"mv":         "Usage: mv [OPTION]... [-T] SOURCE DEST\n  or:  mv [OPTION]... SOURCE... DIRECTORY\n  or:  mv [OPTION]... -t DIRECTORY SOURCE...\nRename SOURCE to DEST, or move SOURCE(s) to DIRECTORY.\n\n  -f, --force                  do not prompt before overwriting\n  -n, --no-clobber             do not overwrite an existing file\n  -v, --verbose                explain what is being done\n",
	"rm":         "Usage: rm [OPTION]... [FILE]...\nRemove (unlink) the FILE(s).\n\n  -f, --force           ignore nonexistent files and arguments, never prompt\n  -i                    prompt before every removal\n  -r, -R, --recursive   remove directories and their contents recursively\n  -d, --dir             remove empty directories\n  -v, --verbose         explain what is being done\n",
	"rmdir":      "Usage: rmdir [OPTION]... DIRECTORY...\nRemove the DIRECTORY(ies), if they are empty.\n",
	"mkdir":      "Usage: mkdir [OPTION]... DIRECTORY...\nCreate the DIRECTORY(ies), if they do not already exist.\n\n  -m, --mode=MODE   set file mode (as in chmod), not a=rwx - umask\n  -p, --parents     no error if existing, make parent directories as needed,\n                    with their file modes unaffected by any -m option.\n  -v, --verbose     print a message for each created directory\n",
	"touch":      "Usage: touch [OPTION]... FILE...\nUpdate the access and modification times of each FILE to the current time.\n\nA FILE argument that does not exist is created empty, unless -c or -h\nis supplied.\n",
	"head":       "Usage: head [OPTION]... [FILE]...\nPrint the first 10 lines of each FILE to standard output.\nWith more than one FILE, precede each with a header giving the file name.\n\n  -c, --bytes=[-]NUM       print the first NUM bytes of each file\n  -n, --lines=[-]NUM       print the first NUM lines instead of the first 10\n  -q, --quiet, --silent    never print headers giving file names\n",
	"tail":       "Usage: tail [OPTION]... [FILE]...\nPrint the last 10 lines of each FILE to standard output.\nWith more than one FILE, precede each with a header giving the file name.\n\n  -c, --bytes=[+]NUM       output the last NUM bytes\n  -f, --follow[={name|descriptor}]\n                           output appended data as the file grows\n  -n, --lines=[+]NUM       output the last NUM lines, instead of the last 10\n",
	"wc":         "Usage: wc [OPTION]... [FILE]...\n  or:  wc [OPTION]... --files0-from=F\nPrint newline, word, and byte counts for each FILE, and a total line if\nmore than one FILE is specified.  A word is a non-zero-length sequence of\nprintable characters delimited by white space.\n\n  -c, --bytes            print the byte counts\n  -m, --chars            print the character counts\n  -l, --lines            print the newline counts\n  -w, --words            print the word counts\n",
	"sort":       "Usage: sort [OPTION]... [FILE]...\n  or:  sort [OPTION]... --files0-from=F\nWrite sorted concatenation of all FILE(s) to standard output.\n\n  -f, --ignore-case           fold lower case to upper case characters\n  -h, --human-numeric-sort    compare human readable numbers (e.g., 2K 1G)\n  -n, --numeric-sort          compare according to string numerical value\n  -r, --reverse               reverse the result of comparisons\n  -k, --key=KEYDEF            sort via a key; KEYDEF gives location and type\n  -t, --field-separator=SEP   use SEP instead of non-blank to blank transition\n  -u, --unique                output only the first of an equal run\n",
	"uniq":       "Usage: uniq [OPTION]... [INPUT [OUTPUT]]\nFilter adjacent matching lines from INPUT (or standard input),\nwriting to OUTPUT (or standard output).\n\n  -c, --count           prefix lines by the number of occurrences\n  -d, --repeated        only print duplicate lines, one for each group\n  -u, --unique          only print unique lines\n",
	"cut":        "Usage: cut OPTION... [FILE]...\nPrint selected parts of lines from each FILE to standard output.\n\n  -b, --bytes=LIST        select only these bytes\n  -c, --characters=LIST   select only these characters\n  -d, --delimiter=DELIM   use DELIM instead of TAB for field delimiter\n  -f, --fields=LIST       select only these fields\n",
	"tr":         "Usage: tr [OPTION]... STRING1 [STRING2]\nTranslate, squeeze, and/or delete characters from standard input,\nwriting to standard output.  STRING1 and STRING2 specify arrays of\ncharacters ARRAY1 and ARRAY2 that control the action.\n\n  -c, -C, --complement    use the complement of ARRAY1\n  -d, --delete            delete characters in ARRAY1, do not translate\n  -s, --squeeze-repeats   replace each sequence of a repeated character\n",
	"tee":        "Usage: tee [OPTION]... [FILE]...\nCopy standard input to each FILE, and also to standard output.\n\n  -a, --append              append to the given FILEs, do not overwrite\n",
	"chmod":      "Usage: chmod [OPTION]... MODE[,MODE]... FILE...\n  or:  chmod [OPTION]... OCTAL-MODE FILE...\n  or:  chmod [OPTION]... --reference=RFILE FILE...\nChange the mode of each FILE to MODE.\n",
	"chown":      "Usage: chown [OPTION]... [OWNER][:[GROUP]] FILE...\n  or:  chown [OPTION]... --reference=RFILE FILE...\nChange the owner and/or group of each FILE to OWNER and/or GROUP.\n",
	"du":         "Usage: du [OPTION]... [FILE]...\n  or:  du [OPTION]... --files0-from=F\nSummarize device usage of the set of FILEs, recursively for directories.\n\n  -a, --all             write counts for all files, not just directories\n  -h, --human-readable  print sizes in human readable format (e.g., 1K 234M 2G)\n  -s, --summarize       display only a total for each argument\n  -d, --max-depth=N     print the total for a directory (or file, with --all)\n",
	"df":         "Usage: df [OPTION]... [FILE]...\nShow information about the file system on which each FILE resides,\nor all file systems by default.\n\n  -h, --human-readable  print sizes in powers of 1024 (e.g., 1023M)\n  -T, --print-type      print file system type\n",
	"stat":       "Usage: stat [OPTION]... FILE...\nDisplay file or file system status.\n\n  -L, --dereference     follow links\n  -c  --format=FORMAT   use the specified FORMAT instead of the default;\n                          output a newline after each use of FORMAT\n",
	"ln":         "Usage: ln [OPTION]... [-T] TARGET LINK_NAME\n  or:  ln [OPTION]... TARGET\n  or:  ln [OPTION]... TARGET... DIRECTORY\n  or:  ln [OPTION]... -t DIRECTORY TARGET...\n",
	"basename":   "Usage: basename NAME [SUFFIX]\n  or:  basename OPTION... NAME...\nPrint NAME with any leading directory components removed.\nIf specified, also remove a trailing SUFFIX.\n",
	"dirname":    "Usage: dirname [OPTION] NAME...\nOutput each NAME with its last non-slash component and trailing slashes\nremoved; if NAME contains no /'s, output '.' (meaning the current directory).\n",
	"realpath":   "Usage: realpath [OPTION]... FILE...\nPrint the resolved absolute file name;\nall but the last component must exist\n",
	"readlink":   "Usage: readlink [OPTION]... FILE...\nPrint value of a symbolic link or canonical file name\n",
	"sha256sum":  "Usage: sha256sum [OPTION]... [FILE]...\nPrint or check SHA256 (256-bit) checksums.\n\nWith no FILE, or when FILE is -, read standard input.\n  -c, --check          read checksums from the FILEs and check them\n",
	"md5sum":     "Usage: md5sum [OPTION]... [FILE]...\nPrint or check MD5 (128-bit) checksums.\n\nWith no FILE, or when FILE is -, read standard input.\n  -c, --check          read checksums from the FILEs and check them\n",
	"whoami":     "Usage: whoami [OPTION]...\nPrint the user name associated with the current effective user ID.\nSame as id -un.\n",
	"id":         "Usage: id [OPTION]... [USER]...\nPrint user and group information for each specified USER,\nor (when USER omitted) for the current process.\n",
	"date":       "Usage: date [OPTION]... [+FORMAT]\n  or:  date [-u|--utc|--universal] [MMDDhhmm[[CC]YY][.ss]]\nDisplay date and time in the given FORMAT.\nWith -s, or with [MMDDhhmm[[CC]YY][.ss]], set the date and time.\n",
	"uname":      "Usage: uname [OPTION]...\nPrint certain system information.  With no OPTION, same as -s.\n",
	"env":        "Usage: env [OPTION]... [-] [NAME=VALUE]... [COMMAND [ARG]...]\nSet each NAME to VALUE in the environment and run COMMAND.\n",
	"printenv":   "Usage: printenv [OPTION]... [VARIABLE]...\nPrint the values of the specified environment VARIABLE(s).\nIf no VARIABLE is specified, print name and value pairs for them all.\n",
	"sleep":      "Usage: sleep NUMBER[SUFFIX]...\n  or:  sleep OPTION\nPause for NUMBER seconds.  SUFFIX may be 's' for seconds (the default),\n'm' for minutes, 'h' for hours or 'd' for days.\n",
	"nproc":      "Usage: nproc [OPTION]...\nPrint the number of processing units available to the current process,\nwhich may be less than the number of online processors\n",
	"uptime":     "\nUsage:\n uptime [options]\n\nOptions:\n -p, --pretty   show uptime in pretty format\n -h, --help     display this help and exit\n -s, --since    system up since\n -V, --version  output version information and exit\n\nFor more details see uptime(1).\n",
	"free":       "\nUsage:\n free [options]\n\nOptions:\n -b, --bytes         show output in bytes\n -k, --kibi          show output in kibibytes\n -m, --mebi          show output in mebibytes\n -g, --gibi          show output in gibibytes\n -h, --human         show human-readable output\n\n     --help     display this help and exit\n -V, --version  output version information and exit\n\nFor more details see free(1).\n",
	"ps":         "\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n",
	"kill":       "\nUsage:\n kill [options] <pid> [...]\n\nOptions:\n <pid> [...]            send signal to every <pid> listed\n -<signal>, -s, --signal <signal>\n                        specify the <signal> to be sent\n -l, --list=[<signal>]  list all signal names, or convert one to a name\n\nFor more details see kill(1).\n",
	"grep":       "Usage: grep [OPTION]... PATTERNS [FILE]...\nSearch for PATTERNS in each FILE.\nExample: grep -i 'hello world' menu.h main.c\nPATTERNS can contain multiple patterns separated by newlines.\n\nPattern selection and interpretation:\n  -E, --extended-regexp     PATTERNS are extended regular expressions\n  -F, --fixed-strings       PATTERNS are strings\n  -i, --ignore-case         ignore case distinctions in patterns and data\n  -w, --word-regexp         match only whole words\n  -x, --line-regexp         match only whole lines\n\nOutput control:\n  -c, --count               print only a count of selected lines per FILE\n  -l, --files-with-matches  print only names of FILEs with selected lines\n  -n, --line-number         print line number with output lines\n  -r, --recursive           like --directories=recurse\n\nReport bugs to: bug-grep@gnu.org\n",
	"sed":        "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n\n  -n, --quiet, --silent\n                 suppress automatic printing of pattern space\n  -e script, --expression=script\n                 add the script to the commands to be executed\n  -i[SUFFIX], --in-place[=SUFFIX]\n                 edit files in place (makes backup if SUFFIX supplied)\n  -E, -r, --regexp-extended\n                 use extended regular expressions in the script\n                 (for portability use POSIX -E).\n\nGNU sed home page: <https://www.gnu.org/software/sed/>.\nGeneral help using GNU software: <https://www.gnu.org/gethelp/>.\n",
	"find":       "Usage: find [-H] [-L] [-P] [-Olevel] [-D debugopts] [path...] [expression]\n\ndefault path is the current directory; default expression is -print\nexpression may consist of: operators, options, tests, and actions:\n",
	"file":       "Usage: file [OPTION...] [FILE...]\nDetermine type of FILEs.\n",
	"systemctl":  "systemctl [OPTIONS...] COMMAND ...\n\nQuery or send control commands to the system manager.\n\nUnit Commands:\n  list-units [PATTERN...]             List units currently in memory\n  status [PATTERN...|PID...]          Show runtime status of one or more units\n  start UNIT...                       Start (activate) one or more units\n  stop UNIT...                        Stop (deactivate) one or more units\n  restart UNIT...                     Start or restart one or more units\n  is-active PATTERN...                Check whether units are active\n",
	"journalctl": "journalctl [OPTIONS...] [MATCHES...]\n\nQuery the journal.\n\nOptions:\n  -u --unit=UNIT             Show logs from the specified unit\n  -n --lines[=INTEGER]       Number of journal entries to show\n  -f --follow                Follow the journal\n  -S --since=DATE            Show entries not older than the specified date\n  -U --until=DATE            Show entries not newer than the specified date\n     --no-pager              Do not pipe output into a pager\n",
	"curl":       "Usage: curl [options...] <url>\n -d, --data <data>          HTTP POST data\n -f, --fail                 Fail fast with no output on HTTP errors\n -h, --help <category>      Get help for commands\n -i, --include              Include protocol response headers in the output\n -o, --output <file>        Write to file instead of stdout\n -O, --remote-name          Write output to a file named as the remote file\n -s, --silent               Silent mode\n -T, --upload-file <file>   Transfer local FILE to destination\n -u, --user <user:password> Server user and password\n -A, --user-agent <name>    Send User-Agent <name> to server\n -v, --verbose              Make the operation more talkative\n -V, --version              Show version number and quit\n",
	"wget":       "GNU Wget 1.21.3, a non-interactive network retriever.\nUsage: wget [OPTION]... [URL]...\n",
	"rsync":      "rsync  version 3.2.7  protocol version 31\nCopyright (C) 1996-2022 by Andrew Tridgell, Wayne Davison, and others.\nWeb site: https://rsync.samba.org/\n\nrsync comes with ABSOLUTELY NO WARRANTY.  This is free software, and you\nare welcome to redistribute it under certain conditions.  See the GNU\nGeneral Public Licence for details.\n\nrsync is a file transfer program capable of efficient remote update\nvia a fast differencing algorithm.\n\nUsage: rsync [OPTION]... SRC [SRC]... DEST\n  or   rsync [OPTION]... SRC [SRC]... [USER@]HOST:DEST\n",
	"less":       "\n                   SUMMARY OF LESS COMMANDS\n",
	"hostname":   "Usage: hostname [-b] {hostname|-F file}         set host name (from file)\n       hostname [-a|-A|-d|-f|-i|-I|-s|-y]       display formatted name\n       hostname                                 display host name\n",
	"ping":       "\nUsage\n  ping [options] <destination>\n\nOptions:\n  <destination>      dns name or ip address\n  -c <count>         stop after <count> replies\n  -W <timeout>       time to wait for response\n",
	"service":    "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n",
	"tty":        "Usage: tty [OPTION]...\nPrint the file name of the terminal connected to standard input.\n",
	"users":      "Usage: users [OPTION]... [FILE]\nOutput who is currently logged in according to FILE.\n",
	"groups":     "Usage: groups [OPTION]... [USERNAME]...\nPrint group memberships for each USERNAME or, if no USERNAME is specified, for\nthe current process (which may differ if the groups database has changed).\n",
	"who":        "Usage: who [OPTION]... [ FILE | ARG1 ARG2 ]\nPrint information about users who are currently logged in.\n",
	"logname":    "Usage: logname [OPTION]\nPrint the user's login name.\n",
}
