package images

import _ "embed"

// Dockerfile is the sandbox image's Dockerfile. Its build context holds one
// more file, the static tool-server binary, named BinaryName.
//
//go:embed Dockerfile
var Dockerfile []byte

// BinaryName is the file name of the tool-server binary in the build
// context and its path (under /) in the image.
const BinaryName = "terrarium-sandbox"
