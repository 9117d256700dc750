package shell

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/terrarium-evals/terrarium/tools/vfs"
)

// This file builds /proc and /dev, and the processes a Debian server runs
// before the scenario's own services: kernel threads, systemd and its
// daemons, sshd, cron, a getty.

// kernelThreads are the kernel's threads on every host; "%d" ones exist
// once per CPU.
var kernelThreads = []string{
	"kthreadd", "rcu_gp", "rcu_par_gp", "slub_flushwq", "netns", "kworker/0:0H-events_highpri",
	"mm_percpu_wq", "rcu_tasks_kthread", "rcu_tasks_rude_kthread", "rcu_tasks_trace_kthread",
	"ksoftirqd/0", "rcu_preempt", "migration/0", "idle_inject/0", "cpuhp/0",
}

var perCPUThreads = []string{"cpuhp/%d", "idle_inject/%d", "migration/%d", "ksoftirqd/%d", "kworker/%d:0H-events_highpri"}

var laterThreads = []string{
	"kdevtmpfs", "inet_frag_wq", "kauditd", "khungtaskd", "oom_reaper", "writeback", "kcompactd0", "ksmd",
	"khugepaged", "kintegrityd", "kblockd", "blkcg_punt_bio", "edac-poller", "devfreq_wq", "kswapd0",
	"kthrotld", "acpi_thermal_pm", "scsi_eh_0", "scsi_tmf_0", "jbd2/sda1-8", "ext4-rsv-conver",
}

// systemProcs returns the base system's processes of h, whose profile is
// p, from PID 2 up; the service PIDs come after them.
func systemProcs(h *host, p *profile) ([]*process, int) {
	r := hostRand(0, p.machineID, "pids")
	var out []*process
	pid := 2
	kt := func(name string, start time.Time) {
		out = append(out, &process{pid: pid, ppid: 2, user: "root", command: "[" + name + "]", start: start, stat: "I<", tty: "?"})
		pid++
	}
	out = append(out, &process{pid: 2, ppid: 0, user: "root", command: "[kthreadd]", start: h.boot, stat: "S", tty: "?"})
	pid = 3
	for _, name := range kernelThreads[1:] {
		kt(name, h.boot)
	}
	for cpu := 1; cpu < p.cpus; cpu++ {
		for _, f := range perCPUThreads {
			kt(fmt.Sprintf(f, cpu), h.boot)
		}
	}
	for _, name := range laterThreads {
		kt(name, h.boot.Add(time.Second))
		pid += r.IntN(3)
	}
	for i, st := 0, out[1:]; i < len(st); i++ {
		if strings.HasPrefix(st[i].command, "[ksoftirqd") || strings.HasPrefix(st[i].command, "[migration") ||
			strings.HasPrefix(st[i].command, "[cpuhp") || strings.HasPrefix(st[i].command, "[kswapd") ||
			strings.HasPrefix(st[i].command, "[khungtaskd") || strings.HasPrefix(st[i].command, "[kdevtmpfs") ||
			strings.HasPrefix(st[i].command, "[jbd2") || strings.HasPrefix(st[i].command, "[ksmd") ||
			strings.HasPrefix(st[i].command, "[khugepaged") || strings.HasPrefix(st[i].command, "[idle_inject") {
			st[i].stat = "S"
		}
		if strings.HasPrefix(st[i].command, "[rcu_preempt") || strings.HasPrefix(st[i].command, "[rcu_tasks") {
			st[i].stat = "I"
		}
		if st[i].command == "[ksmd]" {
			st[i].stat = "SN"
		}
		if st[i].command == "[khugepaged]" {
			st[i].stat = "SN"
		}
	}
	pid = p.pidBase/2 + r.IntN(40)
	daemon := func(user, cmd, stat string, after time.Duration) {
		out = append(out, &process{pid: pid, ppid: 1, user: user, command: cmd, start: h.boot.Add(after), stat: stat, tty: "?"})
		pid += 1 + r.IntN(30)
	}
	daemon("root", "/lib/systemd/systemd-journald", "Ss", 2*time.Second)
	daemon("root", "/lib/systemd/systemd-udevd", "Ss", 2*time.Second)
	pid = p.pidBase + r.IntN(20)
	daemon("systemd-timesync", "/lib/systemd/systemd-timesyncd", "Ssl", 3*time.Second)
	daemon("root", "/usr/sbin/cron -f", "Ss", 4*time.Second)
	daemon("messagebus", "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only", "Ss", 4*time.Second)
	daemon("root", "/lib/systemd/systemd-logind", "Ss", 4*time.Second)
	if !hasService(h, "rsyslog") {
		// Debian 12 logs to the journal only unless rsyslog is installed.
	}
	daemon("root", "/sbin/agetty -o -p -- \\u --noclear - linux", "Ss+", 5*time.Second)
	out[len(out)-1].tty = "tty1"
	daemon("root", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "Ss", 5*time.Second)
	return out, pid + 40 + r.IntN(80)
}

func hasService(h *host, name string) bool {
	for _, s := range h.services {
		if s.name == name {
			return true
		}
	}
	return false
}

// sshdPID is the PID of the host's sshd listener, the parent of every
// login shell.
func (h *host) sshdPID() int {
	for _, p := range h.procs {
		if strings.HasPrefix(p.command, "sshd: /usr/sbin/sshd") {
			return p.pid
		}
	}
	return 1
}

// memStat is the host's memory, in KiB, as /proc/meminfo and free report it.
type memStat struct {
	total, free, avail, buffers, cached, shared, slab, sreclaim int64
}

func (h *host) mem() memStat {
	r := hostRand(0, h.prof.machineID, "mem")
	total := h.prof.memKB
	used := total/8 + int64(r.IntN(int(total/6)))
	cached := total/5 + int64(r.IntN(int(total/5)))
	buffers := int64(80_000 + r.IntN(300_000))
	free := total - used - cached - buffers
	slab := int64(200_000 + r.IntN(400_000))
	sreclaim := slab * 2 / 3
	return memStat{total: total, free: free, avail: free + cached + buffers + sreclaim - 120_000, buffers: buffers, cached: cached,
		shared: int64(1_000 + r.IntN(40_000)), slab: slab, sreclaim: sreclaim}
}

// procTree builds /proc and /dev for h.
func procTree(h *host, p *profile) []vfs.SystemFile {
	f := &sysFiles{at: h.boot}
	f.dir("/proc", 0o555, "root", h.boot)
	f.dir("/proc/self", 0o555, "root", h.boot)
	f.dir("/proc/sys", 0o555, "root", h.boot)
	f.dir("/proc/sys/kernel", 0o555, "root", h.boot)
	var cpu strings.Builder
	family, model, vendor := "6", "106", "GenuineIntel"
	if strings.HasPrefix(p.cpuModel, "AMD") {
		family, model, vendor = "25", "1", "AuthenticAMD"
	}
	for i := 0; i < p.cpus; i++ {
		fmt.Fprintf(&cpu, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %s\nmodel\t\t: %s\nmodel name\t: %s\nstepping\t: 1\nmicrocode\t: 0xd0003e7\ncpu MHz\t\t: %s\ncache size\t: 49152 KB\nphysical id\t: 0\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\ninitial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 27\nwp\t\t: yes\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat avx512vbmi umip pku ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid md_clear flush_l1d arch_capabilities\nbugs\t\t: spectre_v1 spectre_v2 spec_store_bypass swapgs mmio_stale_data eibrs_pbrsb gds bhi\nbogomips\t: %s\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits physical, 57 bits virtual\npower management:\n\n",
			i, vendor, family, model, p.cpuModel, p.cpuMHz, p.cpus, i, p.cpus, i, i, bogomips(p.cpuMHz))
	}
	f.file("/proc/cpuinfo", cpu.String(), 0o444, "root", h.boot)
	m := h.mem()
	f.file("/proc/meminfo", fmt.Sprintf(`MemTotal:       %8d kB
MemFree:        %8d kB
MemAvailable:   %8d kB
Buffers:        %8d kB
Cached:         %8d kB
SwapCached:            0 kB
Active:         %8d kB
Inactive:       %8d kB
Active(anon):   %8d kB
Inactive(anon): %8d kB
Active(file):   %8d kB
Inactive(file): %8d kB
Unevictable:           0 kB
Mlocked:               0 kB
SwapTotal:       %7d kB
SwapFree:        %7d kB
Dirty:               148 kB
Writeback:             0 kB
AnonPages:      %8d kB
Mapped:         %8d kB
Shmem:          %8d kB
KReclaimable:   %8d kB
Slab:           %8d kB
SReclaimable:   %8d kB
SUnreclaim:     %8d kB
KernelStack:        6512 kB
PageTables:        14288 kB
CommitLimit:    %8d kB
VmallocTotal:   34359738367 kB
VmallocUsed:       41268 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
DirectMap4k:      301876 kB
DirectMap2M:    %8d kB
`, m.total, m.free, m.avail, m.buffers, m.cached, m.cached/2, m.cached/2, m.shared, m.total-m.free-m.cached-m.buffers-m.slab, m.cached/2, m.cached/2,
		swapKB, swapKB, m.total-m.free-m.cached-m.buffers-m.slab, m.cached/7, m.shared, m.sreclaim, m.slab, m.sreclaim, m.slab-m.sreclaim, m.total/2+swapKB, m.total-300_000), 0o444, "root", h.boot)
	f.file("/proc/version", fmt.Sprintf("Linux version %s (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) %s\n", kernelRelease, kernelVersion), 0o444, "root", h.boot)
	f.file("/proc/cmdline", fmt.Sprintf("BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=%s ro quiet\n", kernelRelease, uuid(hostRand(0, p.machineID, "rootuuid"))), 0o444, "root", h.boot)
	f.file("/proc/mounts", procMounts, 0o444, "root", h.boot)
	f.file("/proc/filesystems", "nodev\tsysfs\nnodev\ttmpfs\nnodev\tbdev\nnodev\tproc\nnodev\tcgroup\nnodev\tcgroup2\nnodev\tdevtmpfs\nnodev\tdebugfs\nnodev\tsecurityfs\nnodev\tsockfs\nnodev\tpipefs\nnodev\tdevpts\n\text3\n\text2\n\text4\nnodev\tautofs\nnodev\tmqueue\nnodev\thugetlbfs\n", 0o444, "root", h.boot)
	f.file("/proc/sys/kernel/hostname", h.name+"\n", 0o644, "root", h.boot)
	f.file("/proc/sys/kernel/osrelease", kernelRelease+"\n", 0o444, "root", h.boot)
	f.file("/proc/sys/kernel/pid_max", "4194304\n", 0o644, "root", h.boot)
	f.file("/proc/sys/kernel/random/boot_id", dashed(p.bootID)+"\n", 0o444, "root", h.boot)
	// The dynamic files get their text on every command (refreshProc).
	for _, n := range []string{"/proc/uptime", "/proc/loadavg", "/proc/self/status", "/proc/self/cmdline", "/proc/stat"} {
		f.file(n, "", 0o444, "root", h.boot)
	}
	procs := append([]*process{{pid: 1, user: "root", command: "/sbin/init", start: h.boot}}, h.procs...)
	for _, sv := range h.services {
		if sv.pid > 0 {
			procs = append(procs, &process{pid: sv.pid, user: sv.user, command: sv.command, start: sv.since})
		}
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].pid < procs[j].pid })
	for _, pr := range procs {
		d := fmt.Sprintf("/proc/%d", pr.pid)
		f.dir(d, 0o555, pr.user, pr.start)
		cmd := pr.command
		if strings.HasPrefix(cmd, "[") {
			cmd = ""
		} else {
			cmd = strings.Join(strings.Fields(strings.TrimPrefix(cmd, "sshd: ")), "\x00") + "\x00"
		}
		f.file(d+"/cmdline", cmd, 0o444, pr.user, pr.start)
		name := pr.command
		if strings.HasPrefix(name, "[") {
			name = strings.Trim(name, "[]")
		} else {
			name = strings.Fields(name)[0]
			name = name[strings.LastIndexByte(name, '/')+1:]
			if name == "sshd:" {
				name = "sshd"
			}
		}
		if len(name) > 15 {
			name = name[:15]
		}
		f.file(d+"/comm", name+"\n", 0o644, pr.user, pr.start)
		f.file(d+"/status", procStatus(name, pr.pid, pr.ppid, "S (sleeping)", pr.user), 0o444, pr.user, pr.start)
	}

	// /dev: the few nodes that programs read; reads are bounded.
	f.dir("/dev", 0o755, "root", h.boot)
	f.dir("/dev/shm", 0o1777, "root", h.boot)
	f.dir("/dev/pts", 0o755, "root", h.boot)
	random := vfs.Content(string(randBytes(hostRand(0, p.machineID, "urandom"), devBytes)))
	for _, d := range []struct {
		path         string
		major, minor int
		group        string
		mode         fs.FileMode
		blob         vfs.Blob
	}{
		{"/dev/null", 1, 3, "", 0o666, vfs.Content("")},
		{"/dev/zero", 1, 5, "", 0o666, vfs.Content(strings.Repeat("\x00", devBytes))},
		{"/dev/full", 1, 7, "", 0o666, vfs.Content("")},
		{"/dev/random", 1, 8, "", 0o666, random},
		{"/dev/urandom", 1, 9, "", 0o666, random},
		{"/dev/tty", 5, 0, "tty", 0o666, vfs.Content("")},
		{"/dev/console", 5, 1, "", 0o600, vfs.Content("")},
		{"/dev/ptmx", 5, 2, "tty", 0o666, vfs.Content("")},
		{"/dev/sda", 8, 0, "disk", 0o660, vfs.Content("")},
		{"/dev/sda1", 8, 1, "disk", 0o660, vfs.Content("")},
		{"/dev/sda2", 8, 2, "disk", 0o660, vfs.Content("")},
		{"/dev/sda5", 8, 5, "disk", 0o660, vfs.Content("")},
	} {
		// The disks are block devices; the rest are character devices.
		block := d.major == 8
		f.list = append(f.list, vfs.SystemFile{Path: d.path, Blob: d.blob, Mode: d.mode, Group: d.group, ModTime: h.boot,
			Device: true, Block: block, Major: d.major, Minor: d.minor})
	}
	for _, l := range [][2]string{{"/dev/stdin", "/proc/self/fd/0"}, {"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"}} {
		f.list = append(f.list, vfs.SystemFile{Path: l[0], Link: l[1], ModTime: h.boot})
	}
	return f.list
}

// devBytes is how much /dev/zero and /dev/urandom hold: enough for the
// keys and samples commands read from them, small enough to keep a world
// small.
const devBytes = 16 << 10

const swapKB = 999_420

const procMounts = `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
udev /dev devtmpfs rw,nosuid,relatime,mode=755,inode64 0 0
devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0
tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,mode=755,inode64 0 0
/dev/sda1 / ext4 rw,relatime,errors=remount-ro 0 0
securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0
tmpfs /run/lock tmpfs rw,nosuid,nodev,noexec,relatime,size=5120k,inode64 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0
debugfs /sys/kernel/debug debugfs rw,nosuid,nodev,noexec,relatime 0 0
`

func bogomips(mhz string) string {
	var whole, frac int
	fmt.Sscanf(mhz, "%d.%d", &whole, &frac)
	return fmt.Sprintf("%d.%02d", whole*2/1, (frac/10)%100)
}

func dashed(h string) string {
	if len(h) != 32 {
		return h
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func procStatus(name string, pid, ppid int, state, user string) string {
	uid := 0
	if user != "root" {
		uid = 1000
	}
	return fmt.Sprintf("Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t64\nVmPeak:\t    8304 kB\nVmSize:\t    8268 kB\nVmRSS:\t    3912 kB\nThreads:\t1\nSigQ:\t0/256613\nSeccomp:\t0\nCpus_allowed_list:\t0-%d\nvoluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n",
		name, state, pid, pid, ppid, uid, uid, uid, uid, uid, uid, uid, uid, 7, 2+pid%40, pid%7)
}

// refreshProc writes the /proc files that change with time: uptime,
// loadavg, stat.
func (h *host) refreshProc(now time.Time) {
	if h.prof == nil {
		return
	}
	up := now.Sub(h.boot).Seconds()
	idle := up * float64(h.prof.cpus) * 0.97
	fs := h.fs
	fs.SetSystem("/proc/uptime", vfs.Content(fmt.Sprintf("%.2f %.2f\n", up, idle)), now)
	l1, l5, l15 := h.load(now)
	fs.SetSystem("/proc/loadavg", vfs.Content(fmt.Sprintf("%.2f %.2f %.2f 1/%d %d\n", l1, l5, l15, 180+h.prof.cpus*5, h.nextPID)), now)
	fs.SetSystem("/proc/stat", vfs.Content(fmt.Sprintf("cpu  %d 1204 %d %d 9876 0 2311 0 0 0\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\n",
		int64(up*3), int64(up*1.3), int64(idle*100), h.boot.Unix(), h.nextPID)), now)
}

// refreshSelf points /proc/self at the shell of s.
func (h *host) refreshSelf(s *session) {
	if h.prof == nil {
		return
	}
	now := s.net.clock.Now()
	h.fs.SetSystem("/proc/self/status", vfs.Content(procStatus("cat", s.pid+1, s.pid, "R (running)", s.user)), now)
	h.fs.SetSystem("/proc/self/cmdline", vfs.Content("cat\x00/proc/self/cmdline\x00"), now)
}

// load is the host's load average at t: quiet, with a slow wander.
func (h *host) load(t time.Time) (float64, float64, float64) {
	k := h.name + t.Truncate(time.Minute).Format(time.RFC3339)
	base := float64(seeded(h.name+"load", 40)) / 100
	return base + float64(seeded(k+"1", 30))/100, base + float64(seeded(k+"5", 20))/100, base + float64(seeded(h.name+"15", 15))/100
}

// row is p as ps lists it.
func (p *process) row() procRow {
	r := procRow{pid: p.pid, ppid: p.ppid, user: p.user, command: p.command, start: p.start, tty: p.tty, stat: p.stat}
	if r.ppid == 0 && p.pid != 2 {
		r.ppid = 1
	}
	if r.tty == "" {
		r.tty = "?"
	}
	if r.stat == "" {
		r.stat = "Sl"
	}
	return r
}

// memFree is what free(1) reports, in KiB: total, used, free, shared,
// buff/cache.
func (h *host) memFree() (total, used, free, shared, cache int64) {
	if h.prof == nil {
		return 65_844_012, 9_412_880, 41_030_412, 1_204, 15_400_720
	}
	m := h.mem()
	cache = m.buffers + m.cached + m.sreclaim
	return m.total, m.total - m.free - cache, m.free, m.shared, cache
}

// cpus is the host's processor count.
func (h *host) cpus() int {
	if h.prof == nil {
		return 8
	}
	return h.prof.cpus
}
