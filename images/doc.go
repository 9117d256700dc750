// Package images holds the build context of the docker sandbox's image: the
// Dockerfile, embedded here so that the terrarium binary builds the image
// through the Docker API without reading this directory at run time, and
// the names the image's files have. The files themselves are either the
// installed terrarium binary with its shared libraries or a static build
// of ./cmd/terrarium-sandbox; see sandbox/docker.EnsureImage.
package images
