package server

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/shell"
)

func (s *Server) registerFiles() {
	home := s.wsHome
	pathArg := mcp.WithString("path", mcp.Required(), mcp.Description(fmt.Sprintf(
		"Path of the file, absolute or relative to your home directory (%s).", home)))
	s.add(mcp.NewTool("list_files",
		mcp.WithDescription(fmt.Sprintf(
			"List the files and folders in a directory on your workstation, with permissions, owner, size and modification time. Your home directory is %s.", home)),
		mcp.WithString("path", mcp.Description(fmt.Sprintf(
			"Directory to list, absolute or relative to your home directory. Default: %s.", home))),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.listFiles)

	s.add(mcp.NewTool("read_file",
		mcp.WithDescription("Show the contents of a text file on your workstation."),
		pathArg,
		mcp.WithReadOnlyHintAnnotation(true),
	), s.readFile)

	s.add(mcp.NewTool("write_file",
		mcp.WithDescription("Create a text file on your workstation, or replace the whole content of an existing one. The directory must already exist."),
		pathArg,
		mcp.WithString("content", mcp.Required(), mcp.Description("The complete new content of the file.")),
		mcp.WithDestructiveHintAnnotation(true),
	), s.writeFile)

	s.add(mcp.NewTool("delete_file",
		mcp.WithDescription("Delete a file on your workstation. This cannot be undone. Directories cannot be deleted with this tool."),
		pathArg,
		mcp.WithDestructiveHintAnnotation(true),
	), s.deleteFile)
}

// resolve makes p absolute and clean, relative to the workstation home,
// with a leading "~" meaning the home directory.
func (s *Server) resolve(p string) string {
	p = strings.TrimSpace(p)
	switch {
	case p == "" || p == "~":
		return s.wsHome
	case strings.HasPrefix(p, "~/"):
		p = s.wsHome + p[1:]
	case !strings.HasPrefix(p, "/"):
		p = s.wsHome + "/" + p
	}
	return path.Clean(p)
}

// fileError explains a file tool's failure on p.
func fileError(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return userErrorf("No such file or directory: %s", p)
	case errors.Is(err, fs.ErrPermission):
		return userErrorf("Permission denied: %s", p)
	case errors.Is(err, shell.ErrIsDir):
		return userErrorf("%s is a directory. Use list_files to see what it contains.", p)
	case errors.Is(err, shell.ErrNotDir):
		return userErrorf("Not a directory: a component of %s is a file.", p)
	case errors.Is(err, fs.ErrExist):
		return userErrorf("%s already exists.", p)
	}
	return err
}

func (s *Server) listFiles(a args) (string, error) {
	raw, err := a.str("path", false)
	if err != nil {
		return "", err
	}
	dir := s.resolve(raw)
	info, err := s.net.Stat(s.ws, dir)
	if err != nil {
		return "", fileError(dir, err)
	}
	entries := []shell.FileInfo{info}
	if info.Dir {
		if entries, err = s.net.ListFiles(s.ws, dir); err != nil {
			return "", fileError(dir, err)
		}
	}
	var b strings.Builder
	if !info.Dir {
		writeEntry(&b, info, dir)
		return b.String(), nil
	}
	fmt.Fprintf(&b, "%s: %s\n", dir, plural(len(entries), "entry"))
	if len(entries) == 0 {
		b.WriteString("(empty directory)\n")
	}
	for _, e := range entries {
		writeEntry(&b, e, path.Base(e.Path))
	}
	return b.String(), nil
}

func writeEntry(b *strings.Builder, e shell.FileInfo, name string) {
	mode := e.Mode.Perm()
	if e.Dir {
		mode |= fs.ModeDir
		name += "/"
	}
	fmt.Fprintf(b, "%s  %-10s %14d  %s  %s\n", mode, e.Owner, e.Size, e.ModTime.Format("2006-01-02 15:04"), name)
}

func (s *Server) readFile(a args) (string, error) {
	raw, err := a.str("path", true)
	if err != nil {
		return "", err
	}
	p := s.resolve(raw)
	text, err := s.net.ReadFile(s.ws, p)
	if errors.Is(err, shell.ErrBinary) {
		size := ""
		if info, serr := s.net.Stat(s.ws, p); serr == nil {
			size = fmt.Sprintf(" (%d bytes)", info.Size)
		}
		return "", userErrorf("%s is a binary file%s and cannot be shown as text.", p, size)
	}
	if err != nil {
		return "", fileError(p, err)
	}
	if text == "" {
		return fmt.Sprintf("(%s is empty)", p), nil
	}
	return text, nil
}

func (s *Server) writeFile(a args) (string, error) {
	raw, err := a.str("path", true)
	if err != nil {
		return "", err
	}
	content, err := a.str("content", false)
	if err != nil {
		return "", err
	}
	if !a.has("content") {
		return "", userErrorf("Missing required argument %q.", "content")
	}
	p := s.resolve(raw)
	_, statErr := s.net.Stat(s.ws, p)
	if err := s.net.WriteFile(s.ws, p, content, s.emit); err != nil {
		return "", fileError(p, err)
	}
	verb := "Updated"
	if statErr != nil {
		verb = "Created"
	}
	return fmt.Sprintf("%s %s (%s).", verb, p, plural(len(content), "byte")), nil
}

func (s *Server) deleteFile(a args) (string, error) {
	raw, err := a.str("path", true)
	if err != nil {
		return "", err
	}
	p := s.resolve(raw)
	if err := s.net.DeleteFile(s.ws, p, s.emit); err != nil {
		if errors.Is(err, shell.ErrIsDir) {
			return "", userErrorf("%s is a directory; delete_file only deletes files.", p)
		}
		return "", fileError(p, err)
	}
	return fmt.Sprintf("Deleted %s.", p), nil
}
