package vfs

import (
	"strconv"
	"strings"
)

// Accounts is what a tree's /etc/passwd and /etc/group say of its users
// and groups: their ids, each user's primary group and the groups that
// list a user as a member. Permission checks and every command that
// shows an id read it, so that ls -n, id, stat and find -user agree with
// the files, and a change to the files counts from the next check.
type Accounts struct {
	users    map[string]Account
	byUID    map[int]string
	groups   map[string]int
	byGID    map[int]string
	members  map[string][]string // group name -> the users it lists
	order    []string            // group names in file order
	userList []string            // user names in file order
	passwdID string              // the SHA-256 of the files read
	groupID  string
}

// Account is one line of /etc/passwd.
type Account struct {
	Name, Gecos, Home, Shell string
	UID, GID                 int
}

// Accounts returns what the tree's /etc/passwd and /etc/group hold now.
// It is read again only when one of the files changed.
func (f *FS) Accounts() *Accounts {
	f.mu.Lock()
	f.own()
	defer f.mu.Unlock()
	return f.accounts()
}

// accounts is Accounts with f.mu held.
func (f *FS) accounts() *Accounts {
	passwd, pid := f.systemText("/etc/passwd")
	group, gid := f.systemText("/etc/group")
	if a := f.accts; a != nil && a.passwdID == pid && a.groupID == gid {
		return a
	}
	a := parseAccounts(passwd, group)
	a.passwdID, a.groupID = pid, gid
	f.accts = a
	return a
}

// systemText is the text of the content file at p and its digest; empty
// when p is missing or not a content file.
func (f *FS) systemText(p string) (string, string) {
	r := f.resolve(p, true)
	if r.err != nil || r.n.dir || r.n.dev || r.n.blob.Declared {
		return "", ""
	}
	return r.n.blob.Content, r.n.blob.SHA256
}

func parseAccounts(passwd, group string) *Accounts {
	a := &Accounts{users: map[string]Account{}, byUID: map[int]string{}, groups: map[string]int{},
		byGID: map[int]string{}, members: map[string][]string{}}
	for _, l := range strings.Split(passwd, "\n") {
		f := strings.Split(l, ":")
		if len(f) < 7 || f[0] == "" {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		if _, dup := a.users[f[0]]; dup {
			continue // the first line for a name is the one that counts
		}
		a.userList = append(a.userList, f[0])
		a.users[f[0]] = Account{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]}
		if _, ok := a.byUID[uid]; !ok {
			a.byUID[uid] = f[0]
		}
	}
	for _, l := range strings.Split(group, "\n") {
		f := strings.Split(l, ":")
		if len(f) < 4 || f[0] == "" {
			continue
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		if _, dup := a.groups[f[0]]; dup {
			continue
		}
		a.groups[f[0]] = gid
		a.order = append(a.order, f[0])
		if _, ok := a.byGID[gid]; !ok {
			a.byGID[gid] = f[0]
		}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				a.members[f[0]] = append(a.members[f[0]], m)
			}
		}
	}
	return a
}

// User returns the account named name.
func (a *Accounts) User(name string) (Account, bool) {
	u, ok := a.users[name]
	return u, ok
}

// Users lists the accounts in the order /etc/passwd has them.
func (a *Accounts) Users() []Account {
	out := make([]Account, 0, len(a.userList))
	for _, n := range a.userList {
		out = append(out, a.users[n])
	}
	return out
}

// UserByID returns the name of the first account with uid.
func (a *Accounts) UserByID(uid int) (string, bool) {
	n, ok := a.byUID[uid]
	return n, ok
}

// GroupID returns the id of the group named name.
func (a *Accounts) GroupID(name string) (int, bool) {
	g, ok := a.groups[name]
	return g, ok
}

// GroupByID returns the name of the first group with gid.
func (a *Accounts) GroupByID(gid int) (string, bool) {
	n, ok := a.byGID[gid]
	return n, ok
}

// Group is a group a user belongs to.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// AllGroups lists every group in the order /etc/group has them.
func (a *Accounts) AllGroups() []Group {
	out := make([]Group, 0, len(a.order))
	for _, n := range a.order {
		out = append(out, Group{Name: n, GID: a.groups[n], Members: a.members[n]})
	}
	return out
}

// Groups lists the groups of user as id shows them: the primary group
// first, then every group that lists the user, in file order. A primary
// group that /etc/group lacks shows as its id. A user /etc/passwd lacks
// has no groups.
func (a *Accounts) Groups(user string) []Group {
	u, ok := a.users[user]
	if !ok {
		return nil
	}
	name, ok := a.byGID[u.GID]
	if !ok {
		name = strconv.Itoa(u.GID)
	}
	out := []Group{{Name: name, GID: u.GID, Members: a.members[name]}}
	for _, n := range a.order {
		if gid := a.groups[n]; gid != u.GID && contains(a.members[n], user) {
			out = append(out, Group{Name: n, GID: gid, Members: a.members[n]})
		}
	}
	return out
}

// InGroup reports whether user belongs to group: as its primary group or
// as a listed member.
func (a *Accounts) InGroup(user, group string) bool {
	if contains(a.members[group], user) {
		return true
	}
	u, ok := a.users[user]
	if !ok {
		return false
	}
	gid, ok := a.groups[group]
	if ok {
		return gid == u.GID
	}
	return group == user // a file's own group, for a user whose group /etc/group lacks
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
