// Package vfs is the in-memory filesystem of one simulated host.
//
// A tree holds directories, files, symbolic links and device nodes. Paths
// are resolved through links as Linux resolves them (at most 40, then
// ErrLoop); Lstat, Walk and Remove see a link itself. A hard link is a
// second name for the same node. A file has either content bytes, or a
// declared size and SHA-256 for large binary files (model weights) that are
// never materialised: copying such a file copies its declaration. Paths are
// absolute slash paths cleaned with path.Clean; nothing here touches the
// real filesystem. Times come from the world's simulated clock, so the same
// operations always give the same tree.
//
// Errors wrap the io/fs sentinels (fs.ErrNotExist, fs.ErrExist,
// fs.ErrPermission) or this package's own (ErrIsDir, ErrNotDir, ErrNotEmpty,
// ErrNoSpace, ErrTooLarge, ErrBinary, ErrLoop, ErrNoDevice, ErrNotLink,
// ErrDirLink), so callers test them with errors.Is.
package vfs
