package images

import _ "embed"

// Dockerfile is the sandbox image's Dockerfile. Its build context holds
// one more directory, RootFS, copied to the image's root as it is.
//
//go:embed Dockerfile
var Dockerfile []byte

// RootFS is the build-context directory the Dockerfile copies to /.
const RootFS = "rootfs"

// BinaryName is the file name of the tool-server binary, at / in the
// image. A terrarium binary started under this name (argv[0]) is the tool
// server.
const BinaryName = "terrarium-sandbox"

// LibDir is where the image holds the shared libraries of a dynamically
// linked tool server; the Dockerfile puts it on LD_LIBRARY_PATH.
const LibDir = "/lib/terrarium"
